// Lint: typescript-eslint's recommended rules, plus the layer rule of STYLE.md: main/,
// preload/ and renderer/ import from shared/ and never from each other.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const layerPatterns = (self, others) =>
  others.map((o) => ({ group: [`**/${o}/*`, `**/${o}`], message: `${self}/ may import only from shared/, never from ${o}/` }));

const layer = (self, others) => ({
  files: [`${self}/**/*.{ts,tsx}`],
  rules: { 'no-restricted-imports': ['error', { patterns: layerPatterns(self, others) }] },
});

// Inside main/: the backend is the contract and the one choke point. It knows no plugin,
// filter, format, service, host or wire code, and nothing of the catalogue that lists them
// (tests of the backend may use a probe filter and the memory plugin).
const BACKEND_KNOWS_NOT = ['plugins', 'filters', 'formats', 'services', 'hosts', 'nbd', 'demo'];
const backendLayer = {
  files: ['main/backend/**/*.ts'],
  ignores: ['main/backend/**/*.test.ts'],
  rules: {
    'no-restricted-imports': ['error', {
      patterns: [
        ...layerPatterns('main', ['renderer', 'preload']),
        ...BACKEND_KNOWS_NOT.map((o) => ({ group: [`../${o}/*`, `../${o}`], message: `main/backend/ knows no ${o}: the layers above depend on it, not the other way round` })),
        { group: ['../catalog', '../catalog.ts'], message: 'main/backend/ knows no catalogue of plugins and filters' },
      ],
    }],
  },
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'out/**', 'dist/**', 'native/build/**', 'test-results/**', 'playwright-report/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: 'readonly', process: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', URL: 'readonly', performance: 'readonly', queueMicrotask: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  layer('main', ['renderer', 'preload']),
  backendLayer,
  layer('preload', ['main', 'renderer']),
  layer('renderer', ['main', 'preload']),
  layer('shared', ['main', 'renderer', 'preload']),
);

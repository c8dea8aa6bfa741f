// Lint: typescript-eslint's recommended rules, plus the layer rule of STYLE.md: main/,
// preload/ and renderer/ import from shared/ and never from each other.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const layer = (self, others) => ({
  files: [`${self}/**/*.{ts,tsx}`],
  rules: {
    'no-restricted-imports': ['error', {
      patterns: others.map((o) => ({ group: [`**/${o}/*`, `**/${o}`], message: `${self}/ may import only from shared/, never from ${o}/` })),
    }],
  },
});

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
  layer('preload', ['main', 'renderer']),
  layer('renderer', ['main', 'preload']),
  layer('shared', ['main', 'renderer', 'preload']),
);

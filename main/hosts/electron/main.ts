// The Electron host: one window on the renderer build, served from an app:// scheme so every
// response carries our CSP; one ipcMain handler per contract channel, each checking that the
// call comes from our page before the shared handler table validates the input. Everything
// the window can do beyond that (navigate, open windows, ask for permissions) is refused.
import { app, BrowserWindow, dialog, ipcMain, Menu, nativeTheme, protocol, session as electronSession, type IpcMainInvokeEvent } from 'electron';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CommandId } from '../../../shared/commands.ts';
import { ipcChannels, isIpcEventName } from '../../../shared/ipc.ts';
import { createSession } from '../../services/engine.ts';
import { createHandlers, dispatch } from '../../services/handlers.ts';
import type { Session } from '../../services/session.ts';
import { contentSecurityPolicy, contentTypeOf, resolveInside, SECURITY_HEADERS } from '../web/static-files.ts';
import { menuTemplate } from './menu.ts';
import { loadWindowState, saveWindowState } from './window-state.ts';

const SCHEME = 'app';
const APP_ORIGIN = `${SCHEME}://blockscope`;
const PAGE_URL = `${APP_ORIGIN}/index.html`;

// out/main/index.cjs sits beside out/renderer and out/preload.
const outDir = path.join(__dirname, '..');
const rendererDir = path.join(outDir, 'renderer');
const preloadFile = path.join(outDir, 'preload', 'index.cjs');

protocol.registerSchemesAsPrivileged([{ scheme: SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
app.enableSandbox();

let mainWindow: BrowserWindow | null = null;
let session: Session | null = null;

/** Only our own page may call the engine. */
function fromOurPage(event: IpcMainInvokeEvent): boolean {
  const url = event.senderFrame?.url;
  if (!url) return false;
  try {
    const u = new URL(url);
    return u.origin === APP_ORIGIN || `${u.protocol}//${u.host}` === APP_ORIGIN;
  } catch {
    return false;
  }
}

function serveRenderer(): void {
  protocol.handle(SCHEME, async (request) => {
    const url = new URL(request.url);
    const file = url.host === 'blockscope' ? resolveInside(rendererDir, url.pathname === '/' ? '/index.html' : url.pathname) : null;
    const body = file ? await readFile(file).catch(() => null) : null;
    if (!file || !body) return new Response('not found', { status: 404 });
    return new Response(new Uint8Array(body), {
      headers: { ...SECURITY_HEADERS, 'Content-Type': contentTypeOf(file), 'Content-Security-Policy': contentSecurityPolicy() },
    });
  });
}

function lockDown(): void {
  const ses = electronSession.defaultSession;
  ses.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event) => event.preventDefault());
    contents.on('will-redirect', (event) => event.preventDefault());
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
}

async function pickImage(): Promise<string | null> {
  const options = {
    title: 'Open disk image',
    properties: ['openFile' as const],
    filters: [
      { name: 'Disk images', extensions: ['img', 'raw', 'qcow2', 'vmdk', 'vhd', 'vhdx', 'vdi', 'iso', 'bin'] },
      { name: 'All files', extensions: ['*'] },
    ],
  };
  const result = mainWindow ? await dialog.showOpenDialog(mainWindow, options) : await dialog.showOpenDialog(options);
  return result.canceled ? null : (result.filePaths[0] ?? null);
}

/** Asks where to save an export (starting in Downloads, under its suggested name) and writes it there. */
async function saveFile(suggestedName: string, contents: Uint8Array | string): Promise<string | null> {
  const extension = path.extname(suggestedName).slice(1);
  const options = {
    title: 'Save export',
    defaultPath: path.join(app.getPath('downloads'), path.basename(suggestedName)),
    filters: [...(extension ? [{ name: extension.toUpperCase(), extensions: [extension] }] : []), { name: 'All files', extensions: ['*'] }],
  };
  const result = mainWindow ? await dialog.showSaveDialog(mainWindow, options) : await dialog.showSaveDialog(options);
  if (result.canceled || !result.filePath) return null;
  await writeFile(result.filePath, contents);
  return result.filePath;
}

function registerHandlers(s: Session): void {
  const handlers = createHandlers(s, { host: 'electron', version: app.getVersion(), openImageDialog: pickImage, saveFileDialog: saveFile });
  for (const channel of ipcChannels) {
    ipcMain.handle(channel, (event, request: unknown) => {
      if (!fromOurPage(event)) return { ok: false, error: { code: 'forbidden', message: 'IPC from a page that is not Blockscope' } };
      return dispatch(handlers, channel, request);
    });
  }
  s.subscribe((event, payload) => {
    if (isIpcEventName(event) && mainWindow && !mainWindow.isDestroyed()) mainWindow.webContents.send(event, payload);
  });
}

/** The menu: items from the command table, each sent to the window to run (menu.ts). */
function buildMenu(): void {
  const send = (command: CommandId) => mainWindow?.webContents.send('app.command', { command });
  Menu.setApplicationMenu(Menu.buildFromTemplate(menuTemplate({ mac: process.platform === 'darwin', packaged: app.isPackaged, send })));
}

function createWindow(): void {
  const stateDir = app.getPath('userData');
  const state = loadWindowState(stateDir);
  mainWindow = new BrowserWindow({
    width: state.width,
    height: state.height,
    x: state.x,
    y: state.y,
    minWidth: 800,
    minHeight: 500,
    show: false,
    title: 'Blockscope',
    backgroundColor: nativeTheme.shouldUseDarkColors ? '#16181d' : '#f6f7f9',
    webPreferences: {
      preload: preloadFile,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      disableBlinkFeatures: 'Auxclick',
    },
  });
  if (state.maximized) mainWindow.maximize();
  mainWindow.once('ready-to-show', () => mainWindow?.show());
  mainWindow.on('close', () => {
    if (!mainWindow) return;
    const b = mainWindow.getNormalBounds();
    saveWindowState(stateDir, { width: b.width, height: b.height, x: b.x, y: b.y, maximized: mainWindow.isMaximized() });
  });
  mainWindow.on('closed', () => (mainWindow = null));
  void mainWindow.loadURL(PAGE_URL);
}

/** Images named after `--` (or as plain arguments in a packaged app); none means the demo. */
function imagesFromArgs(argv: readonly string[]): string[] {
  const dash = argv.indexOf('--');
  const args = dash >= 0 ? argv.slice(dash + 1) : app.isPackaged ? argv.slice(1) : [];
  return args.filter((a) => !a.startsWith('-'));
}

async function openInitial(s: Session): Promise<void> {
  const targets = imagesFromArgs(process.argv);
  if (targets.length === 0) {
    await s.openDemo().catch((err: Error) => console.error(`blockscope: demo image: ${err.message}`));
    return;
  }
  for (const t of targets) {
    await s.open(t).catch((err: Error) => console.error(`blockscope: ${t}: ${err.message}`));
  }
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    if (mainWindow?.isMinimized()) mainWindow.restore();
    mainWindow?.focus();
  });
  app.on('window-all-closed', () => app.quit());
  app.on('before-quit', () => void session?.dispose());
  void app.whenReady().then(async () => {
    nativeTheme.themeSource = 'system';
    lockDown();
    serveRenderer();
    session = createSession({ stateDir: app.getPath('userData') });
    registerHandlers(session);
    buildMenu();
    createWindow();
    await openInitial(session);
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) createWindow();
    });
  });
}

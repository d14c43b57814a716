// Builds agent-ui/dist: index.html, app.js, app.css. Fails over the 150 KB gzipped budget.
// Shares the widget's core modules (socket, transcript, typing, dom) and build helpers.
import { build } from 'esbuild';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkBudgets, gz, langsPlugin } from '../widget/buildtools.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, 'src');
const dist = join(here, 'dist');

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });
await Promise.all([
  build({
    entryPoints: [join(src, 'app.js')],
    outfile: join(dist, 'app.js'),
    bundle: true,
    minify: true,
    target: 'es2019',
    format: 'iife',
    legalComments: 'none',
    logLevel: 'warning',
    charset: 'ascii',
    plugins: [langsPlugin(join(src, 'lang'))],
  }),
  build({ entryPoints: [join(src, 'app.css')], outfile: join(dist, 'app.css'), bundle: true, minify: true, logLevel: 'warning', charset: 'ascii' }),
  copyFile(join(src, 'index.html'), join(dist, 'index.html')),
]);
const sizes = await Promise.all(['index.html', 'app.js', 'app.css'].map((f) => gz(join(dist, f))));
console.log('agent-ui/dist (gzip -9):');
checkBudgets([
  ['index.html', sizes[0]],
  ['app.js', sizes[1]],
  ['app.css', sizes[2]],
  ['total', sizes[0] + sizes[1] + sizes[2], 150 * 1024],
]);

// Builds widget/dist: loader.js (what sites embed), widget.js (loaded lazily) and widget.css.
// Fails when a gzipped size goes over its budget (docs: loader ≤ 1.5 KB, everything ≤ 15 KB).
import { build } from 'esbuild';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkBudgets, gz, langsPlugin } from './buildtools.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, 'src');
const dist = join(here, 'dist');

const js = {
  bundle: true,
  minify: true,
  target: 'es2019',
  format: 'iife',
  legalComments: 'none',
  logLevel: 'warning',
  // Host pages may not be UTF-8; pure ASCII output decodes the same under any charset.
  charset: 'ascii',
};

await rm(dist, { recursive: true, force: true });
await Promise.all([
  build({ ...js, entryPoints: [join(src, 'loader.js')], outfile: join(dist, 'loader.js') }),
  build({ ...js, entryPoints: [join(src, 'widget.js')], outfile: join(dist, 'widget.js'), plugins: [langsPlugin(join(src, 'lang'))] }),
  build({ entryPoints: [join(src, 'widget.css')], outfile: join(dist, 'widget.css'), bundle: true, minify: true, logLevel: 'warning', charset: 'ascii' }),
]);
const [loader, widget, css] = await Promise.all(['loader.js', 'widget.js', 'widget.css'].map((f) => gz(join(dist, f))));
console.log('widget/dist (gzip -9):');
checkBudgets([
  ['loader.js', loader, 1536],
  ['widget.js', widget],
  ['widget.css', css],
  ['total (loader+widget+css)', loader + widget + css, 15360],
]);

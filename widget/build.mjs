// Builds widget/dist: loader.js (what sites embed), widget.js (loaded lazily), widget.css,
// lang/<code>.js (one per language; the widget loads the visitor's one) and later.js (the offline
// form and files in chats, loaded on first use, outside the budget). Fails when a gzipped size
// goes over its budget (docs: loader ≤ 1.5 KB; everything one visitor downloads ≤ 15 KB, counting
// the largest language file).
import { build } from 'esbuild';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkBudgets, gz, langTables } from './buildtools.mjs';

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
const langs = await langTables(join(src, 'lang'), join(dist, 'lang'));
await Promise.all([
  build({ ...js, entryPoints: [join(src, 'loader.js')], outfile: join(dist, 'loader.js') }),
  build({ ...js, entryPoints: [join(src, 'widget.js')], outfile: join(dist, 'widget.js'), plugins: [langs.plugin] }),
  // The offline form and files in chats, fetched on first use: not part of what every visitor downloads.
  build({ ...js, entryPoints: [join(src, 'later.js')], outfile: join(dist, 'later.js') }),
  build({ entryPoints: [join(src, 'widget.css')], outfile: join(dist, 'widget.css'), bundle: true, minify: true, logLevel: 'warning', charset: 'ascii' }),
]);
const [loader, widget, css, later] = await Promise.all(['loader.js', 'widget.js', 'widget.css', 'later.js'].map((f) => gz(join(dist, f))));
const langSizes = await Promise.all(langs.written.map(async (l) => [`lang/${l.code}.js`, await gz(l.path)]));
const largest = Math.max(...langSizes.map(([, size]) => size));
console.log('widget/dist (gzip -9):');
checkBudgets([
  ['loader.js', loader, 1536],
  ['widget.js', widget],
  ['widget.css', css],
  ...langSizes,
  ['total (+ largest lang)', loader + widget + css + largest, 15360],
]);
console.log(`  later.js (on first use)        ${String(later).padStart(6)} B gz  (not in the total)`);

// Build helpers shared by widget/build.mjs and agent-ui/build.mjs.
import { build } from 'esbuild';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const LANG_FILE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*\.js$/;

// The string tables in `dir`, sorted: [{file: 'es.js', code: 'es'}]; codes are lower case.
export async function langFiles(dir) {
  return (await readdir(dir)).filter((f) => LANG_FILE.test(f)).sort().map((file) => ({ file, code: file.slice(0, -3).toLowerCase() }));
}

// `import langs from 'charla:langs'` becomes every file in src/lang, so adding a language is
// adding one file.
export function langsPlugin(dir) {
  return {
    name: 'charla-langs',
    setup(b) {
      b.onResolve({ filter: /^charla:langs$/ }, () => ({ path: dir, namespace: 'charla-langs' }));
      b.onLoad({ filter: /.*/, namespace: 'charla-langs' }, async () => {
        const files = await langFiles(dir);
        const code = files.map((f, i) => `import l${i} from ${JSON.stringify('./' + f.file)};`).join('\n') +
          `\nexport default {${files.map((f, i) => `${JSON.stringify(f.code)}: l${i}`).join(', ')}};\n`;
        return { contents: code, resolveDir: dir, loader: 'js', watchDirs: [dir] };
      });
    },
  };
}

// The widget speaks one language per visitor, so it downloads only that one: each table in `dir`
// becomes `out/<code>.js`, which hands its strings to the widget as
// `Charla._lang(code, [value, ...])`, the values in the order of `en.js`'s keys (a string missing
// from a table is English's). `import index from 'charla:lang-index'` gives the widget that key
// order and where each file is: `{keys: [...], files: {en: 'lang/en.js', ...}}`. The paths are
// literal so that the upload (infra/aws/assets.py) hashes them with widget.js. Returns the plugin
// and the files written ([{code, path}]).
export async function langTables(dir, out, folder = 'lang') {
  const files = await langFiles(dir);
  const tables = {};
  for (const f of files) tables[f.code] = await loadTable(join(dir, f.file));
  if (!tables.en) throw new Error(`${dir} has no en.js: English gives the keys and every missing string`);
  const keys = Object.keys(tables.en);
  await mkdir(out, { recursive: true });
  const written = [];
  for (const f of files) {
    const table = tables[f.code];
    const extra = Object.keys(table).filter((k) => !keys.includes(k));
    if (extra.length) throw new Error(`${f.file}: keys English lacks: ${extra.join(', ')}`);
    const missing = keys.filter((k) => typeof table[k] !== 'string');
    if (missing.length) console.warn(`  ${f.file}: ${missing.length} strings in English: ${missing.join(', ')}`);
    const values = keys.map((k) => (typeof table[k] === 'string' ? table[k] : tables.en[k]));
    const contents = `var C=window.Charla;C&&C._lang&&C._lang(${JSON.stringify(f.code)},${JSON.stringify(values)})`;
    const path = join(out, `${f.code}.js`);
    await build({ stdin: { contents, loader: 'js' }, outfile: path, minify: true, target: 'es2019', format: 'iife', charset: 'ascii', logLevel: 'warning' });
    written.push({ code: f.code, path });
  }
  const index = `export default ${JSON.stringify({ keys, files: Object.fromEntries(files.map((f) => [f.code, `${folder}/${f.code}.js`])) })};\n`;
  const plugin = {
    name: 'charla-lang-index',
    setup(b) {
      b.onResolve({ filter: /^charla:lang-index$/ }, () => ({ path: dir, namespace: 'charla-lang-index' }));
      b.onLoad({ filter: /.*/, namespace: 'charla-lang-index' }, () => ({ contents: index, loader: 'js', watchDirs: [dir] }));
    },
  };
  return { plugin, written };
}

// A table's `export default {...}`, read as the browser would (the files are ES modules).
async function loadTable(file) {
  const r = await build({ entryPoints: [file], bundle: true, format: 'esm', write: false, logLevel: 'error' });
  const mod = await import('data:text/javascript;base64,' + Buffer.from(r.outputFiles[0].contents).toString('base64'));
  return mod.default;
}

export async function gz(file) {
  return gzipSync(await readFile(file), { level: 9 }).length;
}

export function checkBudgets(rows) {
  let over = false;
  for (const [name, size, budget] of rows) {
    const ok = budget == null || size <= budget;
    over ||= !ok;
    console.log(`  ${name.padEnd(28)} ${String(size).padStart(7)} B gz${budget ? `  (budget ${budget})` : ''}${ok ? '' : '  OVER BUDGET'}`);
  }
  if (over) process.exit(1);
}

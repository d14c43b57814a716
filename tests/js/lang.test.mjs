// widget/src/i18n.js and the language files the build makes: which language the widget speaks,
// what a language file hands over, and how a missing key shows.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import vm from 'node:vm';
import { build } from 'esbuild';
import { langTables } from '../../widget/buildtools.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let i18n;
let dir;
let langs;

// What lang/<code>.js hands to `Charla._lang` when a page runs it.
async function handOver(code) {
  const calls = [];
  const window = { Charla: { _lang: (...args) => calls.push(args) } };
  vm.runInNewContext(await readFile(join(dir, 'lang', `${code}.js`), 'utf8'), { window });
  assert.equal(calls.length, 1);
  return calls[0];
}

before(async () => {
  // `charla:lang-index` and the lang files are made by the build, so the spec builds them the same way.
  dir = await mkdtemp(join(tmpdir(), 'charla-i18n-'));
  langs = await langTables(join(root, 'widget', 'src', 'lang'), join(dir, 'lang'));
  const out = join(dir, 'i18n.mjs');
  await build({
    entryPoints: [join(root, 'widget', 'src', 'i18n.js')],
    bundle: true, format: 'esm', outfile: out, logLevel: 'error', plugins: [langs.plugin],
  });
  i18n = await import(pathToFileURL(out).href);
});

after(() => rm(dir, { recursive: true, force: true }));

test('every table in widget/src/lang becomes a file of its own', () => {
  assert.deepEqual(langs.written.map((l) => l.code), ['en', 'es']);
});

test('the first preference the widget speaks wins, by region then by base language', () => {
  assert.equal(i18n.pickLang(['es-MX', 'en']), 'es');
  assert.equal(i18n.pickLang(['ES']), 'es');
  assert.equal(i18n.pickLang(['fr-FR', 'de', 'es']), 'es');
});

test('with no language it speaks, or odd preferences, it falls back to English', () => {
  assert.equal(i18n.pickLang(['fr', 'de']), 'en');
  assert.equal(i18n.pickLang([null, 42, undefined]), 'en');
  assert.equal(i18n.pickLang([]), 'en');
});

test('a language file names its language and hands over one string per key', async () => {
  const [code, values] = await handOver('es');
  assert.equal(code, 'es');
  const es = i18n.translator('es', values);
  assert.equal(es('send'), 'Enviar');
  assert.equal(es('email'), 'Correo electrónico', 'non-ASCII survives the ASCII-only build');
  assert.equal(es.lang, 'es');
});

test('a translator fills placeholders as text; a key without a string shows itself', async () => {
  const [, values] = await handOver('en');
  const en = i18n.translator('en', values);
  assert.equal(en('send'), 'Send');
  assert.equal(en('typing', { name: '<b>Ana</b>' }), '<b>Ana</b> is typing…');
  assert.equal(en('typing'), ' is typing…', 'a missing value leaves the placeholder empty');
  assert.equal(en('no such key'), 'no such key', 'a missing key shows itself, never undefined');
  assert.equal(i18n.translator('en')('send'), 'send', 'with no file loaded, keys, never undefined');
});

test('a table missing strings gets English ones; a key English lacks fails the build', async () => {
  const src = join(dir, 'partial');
  const { mkdir, writeFile } = await import('node:fs/promises');
  await mkdir(src);
  await writeFile(join(src, 'en.js'), "export default { hello: 'Hello', bye: 'Bye' };\n");
  await writeFile(join(src, 'fr.js'), "export default { hello: 'Bonjour' };\n");
  await langTables(src, join(dir, 'partial-out'));
  const calls = [];
  vm.runInNewContext(await readFile(join(dir, 'partial-out', 'fr.js'), 'utf8'), { window: { Charla: { _lang: (...a) => calls.push(a) } } });
  assert.equal(JSON.stringify(calls), JSON.stringify([['fr', ['Bonjour', 'Bye']]]), 'fr says bye in English');
  await writeFile(join(src, 'de.js'), "export default { hallo: 'Hallo' };\n");
  await assert.rejects(langTables(src, join(dir, 'partial-out')), /de\.js: keys English lacks: hallo/);
});

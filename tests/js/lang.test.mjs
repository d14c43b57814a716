// widget/src/i18n.js: which language the widget speaks, and how a missing key falls back.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { langsPlugin } from '../../widget/buildtools.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let i18n;

before(async () => {
  // The `charla:langs` module is made by the build, so the spec builds i18n.js the same way.
  const dir = await mkdtemp(join(tmpdir(), 'charla-i18n-'));
  const out = join(dir, 'i18n.mjs');
  await build({
    entryPoints: [join(root, 'widget', 'src', 'i18n.js')],
    bundle: true, format: 'esm', outfile: out, logLevel: 'error',
    plugins: [langsPlugin(join(root, 'widget', 'src', 'lang'))],
  });
  i18n = await import(pathToFileURL(out).href);
  await rm(dir, { recursive: true, force: true });
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

test('a translator speaks its language, fills placeholders as text, and falls back to English', () => {
  const es = i18n.translator('es');
  const en = i18n.translator('en');
  assert.equal(es('send'), 'Enviar');
  assert.equal(en('send'), 'Send');
  assert.equal(en('typing', { name: '<b>Ana</b>' }), '<b>Ana</b> is typing…');
  assert.equal(en('typing'), ' is typing…', 'a missing value leaves the placeholder empty');
  assert.equal(i18n.translator('xx')('send'), 'Send', 'an unknown language speaks English');
  assert.equal(en('no such key'), 'no such key', 'a missing key shows itself, never undefined');
});

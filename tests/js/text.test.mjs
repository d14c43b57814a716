// ui-common/text.js: which parts of a message become links.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pieces } from '../../ui-common/text.js';

const links = (text) => pieces(text).filter((_, i) => i % 2);

test('http and https addresses are found, without the punctuation that ends the sentence', () => {
  assert.deepEqual(pieces('See https://example.com/a?b=1#c. Thanks'), ['See ', 'https://example.com/a?b=1#c', '. Thanks']);
  assert.deepEqual(links('(http://x.io/path), and HTTPS://Y.io!'), ['http://x.io/path', 'HTTPS://Y.io']);
  assert.deepEqual(links('"https://q.io/x"'), ['https://q.io/x']);
  assert.deepEqual(links('<https://a.io/>'), ['https://a.io/']);
});

test('nothing else is ever a link: javascript:, data:, other schemes, bare domains, glued prefixes', () => {
  for (const text of ['javascript:alert(1)', 'data:text/html,<b>x</b>', 'ftp://files.io/x', 'example.com',
    'https://', 'xhttps://evil.io', 'JaVaScRiPt:https://x.io', 'mailto:a@b.io']) {
    const found = links(text);
    assert.ok(found.every((u) => /^https?:\/\//i.test(u)), text);
  }
  assert.deepEqual(links('javascript:alert(1)'), []);
  assert.deepEqual(links('xhttps://evil.io'), []);
});

test('the pieces put together are the text, unchanged', () => {
  for (const text of ['', 'plain', 'a https://b.io c http://d.io', '<img src=x onerror=alert(1)> https://e.io/<x>']) {
    assert.equal(pieces(text).join(''), text);
  }
});

// Build helpers shared by widget/build.mjs and agent-ui/build.mjs.
import { readdir, readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';

// `import langs from 'charla:langs'` becomes every file in src/lang, so adding a language is
// adding one file.
export function langsPlugin(dir) {
  return {
    name: 'charla-langs',
    setup(b) {
      b.onResolve({ filter: /^charla:langs$/ }, () => ({ path: dir, namespace: 'charla-langs' }));
      b.onLoad({ filter: /.*/, namespace: 'charla-langs' }, async () => {
        const files = (await readdir(dir)).filter((f) => /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*\.js$/.test(f)).sort();
        const code = files.map((f, i) => `import l${i} from ${JSON.stringify('./' + f)};`).join('\n') +
          `\nexport default {${files.map((f, i) => `${JSON.stringify(f.slice(0, -3).toLowerCase())}: l${i}`).join(', ')}};\n`;
        return { contents: code, resolveDir: dir, loader: 'js', watchDirs: [dir] };
      });
    },
  };
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

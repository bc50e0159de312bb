// Every named import of every UI module is exported by the imported module (a typo here
// would only show as a blank page in the browser).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const jsDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'static', 'js');

function sources(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.js') ? [path] : [];
  });
}

function exportsOf(code) {
  const names = new Set();
  for (const [, name] of code.matchAll(/^export (?:async )?(?:function|const|let|class) (\w+)/gm)) names.add(name);
  return names;
}

test('named imports resolve to exports', () => {
  const problems = [];
  for (const file of sources(jsDir)) {
    const code = readFileSync(file, 'utf8');
    for (const [, list, spec] of code.matchAll(/import \{([^}]+)\} from '([^']+)'/g)) {
      const target = resolve(dirname(file), spec);
      let exported;
      try {
        exported = exportsOf(readFileSync(target, 'utf8'));
      } catch {
        problems.push(`${file}: ${spec} missing`);
        continue;
      }
      for (const name of list.split(',').map((n) => n.trim().split(/\s+as\s+/)[0]).filter(Boolean)) {
        if (!exported.has(name)) problems.push(`${file}: ${name} not exported by ${spec}`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

#!/usr/bin/env node
'use strict';
// npm run typecheck: tsc --checkJs --noEmit over apps_script/*.gs against @types/google-apps-script (the published
// definitions of the whole Apps Script API). tsc does not read .gs files, so each is copied to a temp dir as .js;
// reported paths are mapped back to apps_script/<name>.gs. Exits non-zero on any error.

const childProcess = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const SCRIPT_DIR = path.join(ROOT, 'apps_script');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

function typecheck(sourceDir = SCRIPT_DIR) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scope3-tsc-'));
  try {
    const names = fs.readdirSync(sourceDir).filter((name) => name.endsWith('.gs')).sort();
    for (const name of names) fs.copyFileSync(path.join(sourceDir, name), path.join(dir, name.replace(/\.gs$/, '.js')));
    const tsconfig = {
      compilerOptions: {
        allowJs: true,
        checkJs: true,
        noEmit: true,
        strict: false,
        target: 'ES2019',
        lib: ['ES2019'],
        // Scripts, not modules: every file shares one global scope, as in Apps Script.
        moduleDetection: 'legacy',
        types: ['google-apps-script'],
        typeRoots: [path.join(ROOT, 'node_modules', '@types')],
      },
      include: ['*.js'],
    };
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
    const result = childProcess.spawnSync(process.execPath, [TSC, '-p', '.', '--pretty', 'false'], { cwd: dir, encoding: 'utf8' });
    const output = `${result.stdout}${result.stderr}`.replace(/^([A-Za-z0-9_]+)\.js\(/gm, 'apps_script/$1.gs(');
    const errors = (output.match(/error TS\d+/g) || []).length;
    return { status: result.status, output, errors, files: names.length };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const { status, output, errors, files } = typecheck();
  if (output.trim()) process.stdout.write(output);
  if (status !== 0) {
    console.error(`typecheck: ${errors} error(s) in apps_script/ (tsc exited ${status})`);
    process.exit(1);
  }
  console.log(`typecheck: ${files} .gs files, 0 errors`);
}

module.exports = { typecheck };

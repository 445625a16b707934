// The package.json a tarball carries has no `prepare` script: the tarball
// ships its build (dist/), and npm warns on a global install about any
// install-time script it has not been allowed to run. A clone's
// `npm install` still builds through `prepare`. npm runs this as `prepack`
// (`strip`, after the build) and `postpack` (`restore`); npm tars the files
// as they are on disk between the two.
//   node scripts/pack-manifest.mjs strip|restore
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

const MANIFEST = 'package.json';
// Beside package.json, outside package.json's `files`: never packed; ignored by git.
const SAVED = '.package.json.before-pack';

const command = process.argv[2];
if (command === 'strip') {
  if (existsSync(SAVED)) {
    console.error(`pack-manifest: ${SAVED} exists: an earlier pack did not finish; run \`node scripts/pack-manifest.mjs restore\` first`);
    process.exit(1);
  }
  const text = readFileSync(MANIFEST, 'utf8');
  const manifest = JSON.parse(text);
  delete manifest.scripts.prepare;
  writeFileSync(SAVED, text);
  writeFileSync(MANIFEST, `${JSON.stringify(manifest, null, 2)}\n`);
} else if (command === 'restore') {
  if (existsSync(SAVED)) renameSync(SAVED, MANIFEST);
} else {
  console.error('usage: node scripts/pack-manifest.mjs strip|restore');
  process.exit(64);
}

// Bundles every site: <site>/src/site.js -> <site>/www/dist/site.js (plus site.css when the sources import
// CSS), for the example sites (examples/sites/<site>/) and the defect fixtures' sites
// (tests/fixtures/<defect>/site/). A site is rebuilt only when one of the inputs of its last build
// (recorded in www/dist/.inputs.json from esbuild's metafile) is newer than its output, or when
// package-lock.json changed. A site may import another site's modules (the defect fixtures and
// proxy-batch import the example shop's set-up, examples/sites/shop/src/lumen-shop.js): those are
// inputs too, so changing one rebuilds every site that imports it. Run by scripts/setup;
// `node scripts/build-sites.mjs --force` rebuilds all.
import * as esbuild from 'esbuild'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const sitesDir = path.join(root, 'examples', 'sites')
const force = process.argv.includes('--force')

const mtime = (file) => {
  try {
    return fs.statSync(file).mtimeMs
  } catch {
    return null
  }
}

function upToDate(entry, outfile, inputsFile) {
  const out = mtime(outfile)
  if (out === null || mtime(inputsFile) === null) return false
  let inputs
  try {
    inputs = JSON.parse(fs.readFileSync(inputsFile, 'utf8'))
  } catch {
    return false
  }
  const files = [entry, path.join(root, 'package-lock.json'), ...inputs.map((f) => path.join(root, f))]
  return files.every((f) => {
    const m = mtime(f)
    return m !== null && m <= out
  })
}

const subdirs = (dir) =>
  fs.existsSync(dir)
    ? fs.readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()
    : []
const fixturesDir = path.join(root, 'tests', 'fixtures')
// Site folders relative to the repository root.
const sites = [
  ...subdirs(sitesDir).map((name) => path.join('examples', 'sites', name)),
  ...subdirs(fixturesDir).map((name) => path.join('tests', 'fixtures', name, 'site')),
]

let failed = false
for (const site of sites) {
  const entry = path.join(root, site, 'src', 'site.js')
  if (!fs.existsSync(entry)) continue
  const dist = path.join(root, site, 'www', 'dist')
  const outfile = path.join(dist, 'site.js')
  const inputsFile = path.join(dist, '.inputs.json')
  if (!force && upToDate(entry, outfile, inputsFile)) continue

  process.stderr.write(`setup: bundling ${site}\n`)
  try {
    fs.rmSync(dist, { recursive: true, force: true })
    const result = await esbuild.build({
      absWorkingDir: root,
      entryPoints: [entry],
      outfile,
      bundle: true,
      format: 'iife',
      platform: 'browser',
      target: 'es2019',
      minify: false,
      legalComments: 'eof',
      logLevel: 'warning',
      metafile: true,
    })
    fs.writeFileSync(inputsFile, JSON.stringify(Object.keys(result.metafile.inputs).sort(), null, 1))
  } catch (e) {
    failed = true
    process.stderr.write(`setup: bundling ${site} failed: ${e.message}\n`)
  }
}
process.exit(failed ? 1 : 0)

// Builds every site: the example sites (examples/sites/<site>/), the defect fixtures' sites
// (tests/fixtures/<defect>/site/) and the CMP adapters' sites (tests/fixtures/cmp/<cmp>/site/). Three kinds of output, all git-ignored:
// - <site>/src/site.js is bundled into <site>/www/dist/site.js (plus site.css when the sources import
//   CSS). A site is rebuilt only when one of the inputs of its last build (recorded in
//   www/dist/.inputs.json from esbuild's metafile) is newer than its output, or when
//   package-lock.json changed. A site may import another site's modules (the defect fixtures and
//   proxy-batch import the example shop's set-up, examples/sites/shop/src/lumen-shop.js): those are
//   inputs too, so changing one rebuilds every site that imports it.
// - <site>/pages.mjs default-exports the site's pages as {path under www/: HTML}, written into www/;
//   the pages share one document and Segment snippet (examples/common/page.mjs). So does
//   tests/fixtures/<defect>/pages.mjs, for a fixture that serves an example site's page with a tag
//   or a defect added, or correct/leaky twins generated from one source.
// - <site>/destinations/<dir>.js, a stand-in for a device-mode destination's browser code, is bundled
//   to where the site's settings.json says Segment's CDN serves it (remotePlugins[].url, answered
//   from <site>/segment-cdn/); the stand-ins share examples/common/destination.js.
// - tests/fixtures/cmp/<vendor>/src/<vendor>.js, a CMP imitation, is bundled into the one classic
//   script its page loads, <vendor>/<vendor>.js; the imitations share tests/fixtures/cmp/common/banner.js.
//   Their pages come from tests/fixtures/cmp/pages.mjs.
// Pages, stand-ins and imitations are cheap: they are made on every run and written only when they differ.
// Run by scripts/setup; `node scripts/build-sites.mjs --force` rebuilds all.
import * as esbuild from 'esbuild'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

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
  // The CMP adapters' sites: a real CMP from npm (or an imitation page) on real analytics-next.
  ...subdirs(path.join(fixturesDir, 'cmp')).map((name) => path.join('tests', 'fixtures', 'cmp', name, 'site')),
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

// Writes `text` to `file` unless it already holds it (so that an unchanged output keeps its mtime).
function writeIfChanged(file, text) {
  let old = null
  try {
    old = fs.readFileSync(file, 'utf8')
  } catch {}
  if (old === text) return
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, text)
}

// A module may export `base`, the folder (relative to its own) its pages' paths are relative to;
// by default www/. The correct/leaky twins that serve a folder each use '.'.
async function writePages(site) {
  const module = path.join(root, site, 'pages.mjs')
  if (!fs.existsSync(module)) return
  const { default: pages, base = 'www' } = await import(pathToFileURL(module).href)
  for (const [page, html] of Object.entries(pages)) writeIfChanged(path.join(root, site, base, page), html)
}

// `entry` (relative to the repository) bundled into one classic script (an IIFE), headed by where it
// was built from and what it is (`what`).
async function bundleScript(entry, what) {
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2019',
    logLevel: 'warning',
    banner: { js: `/* Built by scripts/build-sites.mjs from ${entry}: ${what}. */` },
  })
  return result.outputFiles[0].text
}

// The CDN path of each destination code bundle the site's settings name, by its folder
// (/next-integrations/actions/<dir>/<hash>.js -> <dir>).
function remotePluginPaths(site) {
  const file = path.join(root, site, 'settings.json')
  const settings = JSON.parse(fs.readFileSync(file, 'utf8'))
  const paths = new Map()
  for (const plugin of settings.remotePlugins || []) {
    const pathname = new URL(plugin.url).pathname
    paths.set(path.posix.basename(path.posix.dirname(pathname)), pathname)
  }
  return paths
}

async function buildStandins(site) {
  const dir = path.join(root, site, 'destinations')
  if (!fs.existsSync(dir)) return
  const served = remotePluginPaths(site)
  for (const name of fs.readdirSync(dir).filter((f) => f.endsWith('.js')).sort()) {
    const entry = path.join(site, 'destinations', name)
    const pathname = served.get(name.slice(0, -'.js'.length))
    if (!pathname) {
      throw new Error(
        `${entry}: ${path.join(site, 'settings.json')} has no remotePlugins[].url in ` +
          `next-integrations/actions/${name.slice(0, -'.js'.length)}/; add the destination there or rename the file`,
      )
    }
    const text = await bundleScript(entry, "a stand-in, not Segment's code")
    writeIfChanged(path.join(root, site, 'segment-cdn', pathname), text)
  }
}

// tests/fixtures/cmp/<vendor>/src/<vendor>.js -> tests/fixtures/cmp/<vendor>/<vendor>.js, an IIFE as
// the vendor's own script tag would load.
async function buildImitations() {
  const cmpDir = path.join('tests', 'fixtures', 'cmp')
  for (const name of subdirs(path.join(root, cmpDir))) {
    const entry = path.join(cmpDir, name, 'src', `${name}.js`)
    if (!fs.existsSync(path.join(root, entry))) continue
    const text = await bundleScript(entry, "an imitation, not the vendor's code")
    writeIfChanged(path.join(root, cmpDir, name, `${name}.js`), text)
  }
}

try {
  await buildImitations()
} catch (e) {
  failed = true
  process.stderr.write(`setup: building the CMP imitations failed: ${e.message}\n`)
}

// Defect fixtures without a bundle of their own (no site/ folder) that serve pages of an example
// site with a tag or a defect added: tests/fixtures/<defect>/pages.mjs.
const fixturePages = subdirs(fixturesDir)
  .map((name) => path.join('tests', 'fixtures', name))
  .filter((dir) => fs.existsSync(path.join(root, dir, 'pages.mjs')))

for (const site of [...sites, ...fixturePages]) {
  try {
    await writePages(site)
    await buildStandins(site)
  } catch (e) {
    failed = true
    process.stderr.write(`setup: building ${site} failed: ${e.message}\n`)
  }
}
process.exit(failed ? 1 : 0)

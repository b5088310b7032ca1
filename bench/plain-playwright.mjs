// The baseline for bench/portfolio.py: the same visits as consent-gates runs for the example shop
// (same routes, steps and page leave), written as a plain playwright-core script with no decoding,
// judging or snapshots. It settles after each action by waiting <quiet_ms> of real time without a
// request (bounded by ten times that, as consent-gates bounds a page that is never idle): 500 is the
// old quiet rule; 30000 waits the controlled clock's horizon in real time, which is what a plain
// script must do to see the same delayed requests (it cannot run the page's timers forward safely).
// Usage: node bench/plain-playwright.mjs <copies> <parallel> [quiet_ms]
import { launch, siteContext } from '../tests/fixtures/plain-edge.mjs'

const copies = Number(process.argv[2] || 1)
const parallel = Number(process.argv[3] || 2)
const QUIET = Number(process.argv[4] || 500)
const SETTLE_MAX = Math.max(8000, QUIET * 10)

const states = {
  'no-choice': [],
  'accept-all': ['#cc-main .cm__btn[data-role=all]'],
  'reject-all': ['#cc-main .cm__btn[data-role=necessary]'],
  'analytics-only': [
    '#cc-main .cm__btn[data-role=show]',
    '#cc-main .pm .section__toggle[value=analytics]',
    '#cc-main .pm__btn[data-role=save]',
  ],
}

async function visit(browser) {
  return async (state) => {
    const began = Date.now()
    // The shop as specs/shop.yaml serves it, every request answered offline.
    const context = await siteContext(browser, 'shop')
    let last = Date.now()
    context.on('request', () => { last = Date.now() })
    const page = await context.newPage()
    const settle = async () => {
      const end = Date.now() + SETTLE_MAX
      last = Math.max(last, Date.now())
      while (Date.now() < end && Date.now() - last < QUIET) {
        await new Promise((r) => setTimeout(r, Math.min(QUIET - (Date.now() - last), end - Date.now()) + 1))
      }
    }
    const leave = async () => {
      await page.evaluate(() => {
        Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true })
        document.dispatchEvent(new Event('visibilitychange'))
        window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: false }))
      })
      await settle()
    }
    await page.goto('https://shop.example/', { waitUntil: 'load' })
    await settle()
    for (const sel of states[state]) {
      await page.locator(sel).first().click({ timeout: 5000 })
      await settle()
    }
    await leave()
    await page.goto('https://shop.example/product/2.html', { waitUntil: 'load' })
    await settle()
    await leave()
    await context.storageState()
    await context.close()
    durations.push(Date.now() - began)
  }
}

const durations = []
const started = Date.now()
const browser = await launch(['--no-sandbox', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic', '--disable-gpu'])
const run = await visit(browser)
const queue = []
for (let i = 0; i < copies; i++) for (const s of Object.keys(states)) queue.push(s)
const total = queue.length
await Promise.all(Array.from({ length: parallel }, async () => {
  while (queue.length) await run(queue.shift())
}))
await browser.close()
console.log(JSON.stringify({ trials: total, wall_ms: Date.now() - started, durations_ms: durations }))

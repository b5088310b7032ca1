// Trailhead Outfitters' pages, a trail guide each: scripts/build-sites.mjs writes them into www/.
import { page } from '../../common/page.mjs'

export const GUIDES = [
  {
    file: 'index.html',
    path: '/',
    title: 'Ridge Loop guide',
    id: 'ridge-loop',
    name: 'Ridge Loop: a day hike',
    text: 'Eleven miles along the ridge, with two water sources and a fire lookout at the top.',
    related: 'Next: <a href="/trails.html">all trails</a>',
  },
  {
    file: 'trails.html',
    path: '/trails.html',
    title: 'All trails',
    id: 'all-trails',
    name: 'All trails',
    text: 'Forty-two maintained trails, sorted by length and elevation gain.',
    related: 'Back to <a href="/">Ridge Loop</a>',
  },
]

const brand = 'Trailhead Outfitters'

/**
 * One guide page (`g`, one of GUIDES). `assets` is the origin the stylesheet and the bundle are
 * served from ('' for the page's own); the rest (`canonical`, `comment`, `tail`) is passed to page()
 * and overrides the site's own. The replay fixture serves these pages with a recorder added.
 */
export function guidePage({ g = GUIDES[0], assets = '', ...rest } = {}) {
  return page({
    title: `${g.title} · ${brand}`,
    canonical: 'https://trailhead.example' + g.path,
    styles: [`${assets}/trailhead.css`],
    segment: {
      writeKey: 'trailheadWK1',
      cdn: 'cdn.segment.com',
      note: [
        'analytics.load() and analytics.page() are left out on purpose: /dist/site.js loads Segment',
        "through Segment's consent wrapper (opt-out model, klaro as the CMP).",
      ],
    },
    bundle: `${assets}/dist/site.js`,
    body: `    <header class="top">
      <a class="brand" href="/">${brand}</a>
      <nav><a href="/">Guides</a> <a href="/trails.html">Trails</a> <button type="button" class="link" id="privacy-choices">Your Privacy Choices</button></nav>
    </header>
    <main class="guide" data-guide-id="${g.id}" data-guide-name="${g.name}">
      <h1>${g.name}</h1>
      <p>${g.text}</p>
      <button type="button" id="save-trail">Save this trail</button>
      <p class="related">${g.related}</p>
    </main>
    <footer>${brand} · an example US site for consent-gates (opt-out, honours Global Privacy Control)</footer>`,
    ...rest,
  })
}

export default Object.fromEntries(GUIDES.map((g) => [g.file, guidePage({ g })]))

// Trailhead Outfitters' pages, a trail guide each: scripts/build-sites.mjs writes them into www/.
import { page } from '../../common/page.mjs'

const GUIDES = [
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
const pages = {}
for (const g of GUIDES) {
  pages[g.file] = page({
    title: `${g.title} · ${brand}`,
    canonical: 'https://trailhead.example' + g.path,
    styles: ['/trailhead.css'],
    segment: {
      writeKey: 'trailheadWK1',
      cdn: 'cdn.segment.com',
      note: [
        'analytics.load() and analytics.page() are left out on purpose: /dist/site.js loads Segment',
        "through Segment's consent wrapper (opt-out model, klaro as the CMP).",
      ],
    },
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
  })
}
export default pages

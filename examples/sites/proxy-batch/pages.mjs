// The Lumen Shop's pages (examples/sites/shop/pages.mjs) under the proxied shop's name, with Segment's
// snippet pointing at the shop's own first-party proxy.
import { lumenShopPages } from '../shop/pages.mjs'

export default lumenShopPages({
  brand: 'Lumen Shop (proxied)',
  origin: 'https://proxy-shop.example',
  segment: {
    writeKey: 'proxyWK42',
    cdn: 'cdn.proxy-shop.example',
    note: [
      'analytics.load() and analytics.page() are left out on purpose: /dist/site.js loads Segment',
      'through the consent wrapper once the visitor has decided. Segment is served through the',
      "shop's own first-party proxy: the library and settings from cdn.proxy-shop.example, events to",
      'collect.proxy-shop.example, sent in batches (/v1/b).',
    ],
  },
})

// Lumen Shop behind a first-party proxy: the shop's cookie banner (vanilla-cookieconsent v3, opt-in)
// gating Segment through Segment's consent wrapper (@segment/analytics-consent-tools), with Segment
// served through the shop's own hosts. The snippet loads analytics.js from cdn.proxy-shop.example (so
// settings, chunks and destination code come from there too: analytics-next rewrites cdn.segment.com in
// remotePlugins[].url to the CDN it was loaded from), events go to collect.proxy-shop.example, and they
// are delivered in batches (POST /v1/b) of up to 10, or after 5 s, or when the visitor leaves the page.
// Bundled by scripts/setup into www/dist/site.js. Only the load options differ from the shop.
import { runShop } from '../../shop/src/lumen-shop.js'

runShop({
  load: {
    initialPageview: true,
    integrations: {
      'Segment.io': {
        // The proxy in front of api.segment.io (Segment's "custom proxy" set-up).
        apiHost: 'collect.proxy-shop.example/v1',
        deliveryStrategy: { strategy: 'batching', config: { size: 10, timeout: 5000 } },
      },
    },
  },
})

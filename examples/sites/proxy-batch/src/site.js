// Lumen Shop behind a first-party proxy: the shop's cookie banner (vanilla-cookieconsent v3, opt-in)
// gating Segment through Segment's consent wrapper (@segment/analytics-consent-tools), with Segment
// served through the shop's own hosts. The snippet loads analytics.js from cdn.proxy-shop.example (so
// settings, chunks and destination code come from there too: analytics-next rewrites cdn.segment.com in
// remotePlugins[].url to the CDN it was loaded from), events go to collect.proxy-shop.example, and they
// are delivered in batches (POST /v1/b) of up to 10, or after 5 s, or when the visitor leaves the page.
// Bundled by scripts/setup into www/dist/site.js.
import 'vanilla-cookieconsent/dist/cookieconsent.css'
import * as CookieConsent from 'vanilla-cookieconsent'
import { createWrapper } from '@segment/analytics-consent-tools'

// The CMP's categories, as the consent-category ids configured in Segment.
const SEGMENT_CATEGORY = {
  necessary: 'C0001',
  analytics: 'C0002',
  advertising: 'C0004',
}

/** The current choice in Segment's shape, e.g. {C0001: true, C0002: false, C0004: false}. */
function segmentCategories() {
  const categories = {}
  for (const [cmpName, id] of Object.entries(SEGMENT_CATEGORY)) {
    categories[id] = CookieConsent.acceptedCategory(cmpName)
  }
  return categories
}

let cmpReady
const cmpReadyPromise = new Promise((resolve) => (cmpReady = resolve))
let decided
const decisionPromise = new Promise((resolve) => (decided = resolve))
const consentChangedListeners = []
const notifyConsentChanged = () => {
  const categories = segmentCategories()
  consentChangedListeners.forEach((cb) => cb(categories))
}

// Exposed for the browser console and for test tooling (the UMD build of the library does the same).
window.CookieConsent = CookieConsent

CookieConsent.run({
  mode: 'opt-in',
  revision: 1,
  guiOptions: {
    consentModal: { layout: 'box', position: 'bottom right', equalWeightButtons: true },
    preferencesModal: { layout: 'box', equalWeightButtons: true },
  },
  categories: {
    necessary: { enabled: true, readOnly: true },
    analytics: {
      autoClear: { cookies: [{ name: /^_ga/ }] },
    },
    advertising: {
      autoClear: { cookies: [{ name: '_fbp' }] },
    },
  },
  // First decision, and every page load where a valid decision already exists.
  onConsent: () => decided(),
  // The first decision is a change too (from "undecided"): tell Segment about it like a later change.
  onFirstConsent: () => notifyConsentChanged(),
  onChange: () => notifyConsentChanged(),
  language: {
    default: 'en',
    translations: {
      en: {
        consentModal: {
          title: 'We use cookies',
          description:
            'Lumen Shop uses cookies to keep your cart, to measure how the shop is used (analytics) and to show you relevant ads (advertising). Choose which ones you allow.',
          acceptAllBtn: 'Accept all',
          acceptNecessaryBtn: 'Reject all',
          showPreferencesBtn: 'Manage preferences',
        },
        preferencesModal: {
          title: 'Cookie preferences',
          acceptAllBtn: 'Accept all',
          acceptNecessaryBtn: 'Reject all',
          savePreferencesBtn: 'Save preferences',
          closeIconLabel: 'Close',
          sections: [
            {
              title: 'Your choices',
              description: 'You can change these settings at any time from the "Cookie settings" link.',
            },
            {
              title: 'Strictly necessary',
              description: 'Needed for the cart and for remembering this choice. Always on.',
              linkedCategory: 'necessary',
            },
            {
              title: 'Analytics',
              description: 'Measure visits and product views (Segment, Google Analytics 4).',
              linkedCategory: 'analytics',
            },
            {
              title: 'Advertising',
              description: 'Measure ad conversions and show relevant ads (Meta Pixel).',
              linkedCategory: 'advertising',
            },
          ],
        },
      },
    },
  },
}).then(() => {
  cmpReady()
  if (CookieConsent.validConsent()) decided()
})

const withCookieConsent = createWrapper({
  // Wait for the CMP to initialise (it reads its cookie and renders the banner when no decision exists).
  shouldLoadWrapper: () => cmpReadyPromise,
  // Opt-in: load nothing until the visitor has decided.
  shouldLoadSegment: async (ctx) => {
    await decisionPromise
    ctx.load({ consentModel: 'opt-in' })
  },
  getCategories: () => segmentCategories(),
  registerOnConsentChanged: (setCategories) => {
    consentChangedListeners.push(setCategories)
  },
})

const analytics = window.analytics
withCookieConsent(analytics).load(analytics._writeKey, {
  initialPageview: true,
  integrations: {
    'Segment.io': {
      // The proxy in front of api.segment.io (Segment's "custom proxy" set-up).
      apiHost: 'collect.proxy-shop.example/v1',
      deliveryStrategy: { strategy: 'batching', config: { size: 10, timeout: 5000 } },
    },
  },
})

const product = document.querySelector('[data-product-id]')
const productProperties = product && {
  product_id: product.dataset.productId,
  name: product.dataset.productName,
  price: Number(product.dataset.price),
  currency: product.dataset.currency,
}

if (productProperties) {
  analytics.track('Product Viewed', productProperties)
}

let cartCount = 0
const addToCart = document.getElementById('add-to-cart')
if (addToCart && productProperties) {
  addToCart.addEventListener('click', () => {
    cartCount += 1
    const counter = document.getElementById('cart-count')
    if (counter) counter.textContent = `Cart: ${cartCount}`
    // Once analytics.js has loaded, window.analytics is the real instance (the snippet queue forwards to it too).
    window.analytics.track('Product Added', { ...productProperties, quantity: 1 })
  })
}

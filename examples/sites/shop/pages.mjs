// The Lumen Shop's pages, a product page each: scripts/build-sites.mjs writes them into www/.
// proxy-batch serves the same shop under its own name and Segment set-up (its pages.mjs).
import { page } from '../../common/page.mjs'

export const PRODUCTS = [
  {
    file: 'index.html',
    path: '/',
    id: 'lamp-01',
    name: 'Aurora Desk Lamp',
    price: '49.00',
    text: 'A brass desk lamp with a dimmable warm-white LED and a linen shade.',
    related: '<a href="/product/2.html">Linen Shade</a>',
  },
  {
    file: 'product/2.html',
    path: '/product/2.html',
    id: 'shade-02',
    name: 'Linen Shade',
    price: '19.50',
    text: 'A hand-stitched linen shade that fits every Lumen lamp.',
    related: '<a href="/">Aurora Desk Lamp</a>',
  },
]

/**
 * One product page (`p`, one of PRODUCTS) of a shop named `brand` served at `origin`. `assets` is the
 * origin the stylesheets and the bundle are served from ('' for the page's own); the rest (`canonical`,
 * `styles`, `comment`, `head`, `tail`) is passed to page() and overrides the shop's own.
 */
export function productPage({ brand, origin, segment, p = PRODUCTS[0], assets = '', ...rest }) {
  const banner = 'data-cc="show-preferencesModal"'
  return page({
    title: `${p.name} · ${brand}`,
    canonical: origin + p.path,
    styles: [`${assets}/shop.css`, `${assets}/dist/site.css`],
    segment,
    bundle: `${assets}/dist/site.js`,
    body: `    <header class="top">
      <a class="brand" href="/">${brand}</a>
      <nav><a href="/">Lamps</a> <a href="/product/2.html">Shades</a> <button type="button" class="link" ${banner}>Cookie settings</button></nav>
      <span class="cart" id="cart-count" aria-live="polite">Cart: 0</span>
    </header>
    <main class="product" data-product-id="${p.id}" data-product-name="${p.name}" data-price="${p.price}" data-currency="EUR">
      <div class="photo" aria-hidden="true"></div>
      <section>
        <h1>${p.name}</h1>
        <p class="price">€${p.price}</p>
        <p>${p.text}</p>
        <button type="button" id="add-to-cart">Add to cart</button>
        <p class="related">You may also like: ${p.related}</p>
      </section>
    </main>
    <footer>${brand} · an example site for consent-gates · <a href="#" ${banner}>Manage cookies</a></footer>`,
    ...rest,
  })
}

/** The shop's pages as {path under www/: HTML}, for a shop named `brand` served at `origin`. */
export function lumenShopPages(shop) {
  return Object.fromEntries(PRODUCTS.map((p) => [p.file, productPage({ ...shop, p })]))
}

/** The Lumen Shop itself: what the defect fixtures that copy its pages start from. */
export const LUMEN_SHOP = {
  brand: 'Lumen Shop',
  origin: 'https://shop.example',
  segment: {
    writeKey: 'shopWK123',
    cdn: 'cdn.segment.com',
    note: [
      'analytics.load() and analytics.page() are left out on purpose: /dist/site.js loads Segment',
      "through the consent wrapper once the visitor has decided (Segment's consent-tools README).",
    ],
  },
}

export default lumenShopPages(LUMEN_SHOP)

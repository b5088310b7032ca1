// The HTML document every example page shares: head (title, canonical link, stylesheets, Segment's
// snippet) and a body that ends by loading the site's bundle, /dist/site.js. Each site's pages.mjs
// supplies only what differs; scripts/build-sites.mjs writes the pages into the site's www/. The
// defect fixtures' pages are these pages too, with their one difference given declaratively
// (`comment`, `head`, `bundle`, `tail`), so that no fixture copies the shop's banner or snippet.
import { segmentSnippet } from './segment-snippet.mjs'

/**
 * One page. `canonical` is the page's URL (the snippet reads it; left out when absent); `styles` the
 * stylesheet paths; `segment` the snippet's {writeKey, cdn, note}; `body` the lines between <body>
 * and the bundle, indented for <body>. Optional: `comment`, an HTML comment after the doctype saying
 * what the page is for; `head`, lines (indented for <head>) between the stylesheets and the snippet;
 * `bundle`, where the site's bundle is loaded from (default /dist/site.js); `tail`, lines after it.
 */
export function page({ title, canonical, styles, segment, body, comment, head = [], bundle = '/dist/site.js', tail = [] }) {
  return [
    '<!doctype html>',
    ...(comment ? [`<!-- ${comment} -->`] : []),
    '<html lang="en">',
    '  <head>',
    '    <meta charset="utf-8">',
    '    <meta name="viewport" content="width=device-width, initial-scale=1">',
    `    <title>${title}</title>`,
    ...(canonical ? [`    <link rel="canonical" href="${canonical}">`] : []),
    ...styles.map((href) => `    <link rel="stylesheet" href="${href}">`),
    ...head,
    segmentSnippet(segment),
    '  </head>',
    '  <body>',
    body,
    `    <script src="${bundle}"></script>`,
    ...tail,
    '  </body>',
    '</html>',
    '',
  ].join('\n')
}

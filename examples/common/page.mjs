// The HTML document every example page shares: head (title, canonical link, stylesheets, Segment's
// snippet) and a body that ends by loading the site's bundle, /dist/site.js. Each site's pages.mjs
// supplies only what differs; scripts/build-sites.mjs writes the pages into the site's www/.
import { segmentSnippet } from './segment-snippet.mjs'

/**
 * One page. `canonical` is the page's URL (the snippet reads it); `styles` the stylesheet paths;
 * `segment` the snippet's {writeKey, cdn, note}; `body` the lines between <body> and the bundle,
 * indented for <body>.
 */
export function page({ title, canonical, styles, segment, body }) {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '  <head>',
    '    <meta charset="utf-8">',
    '    <meta name="viewport" content="width=device-width, initial-scale=1">',
    `    <title>${title}</title>`,
    `    <link rel="canonical" href="${canonical}">`,
    ...styles.map((href) => `    <link rel="stylesheet" href="${href}">`),
    segmentSnippet(segment),
    '  </head>',
    '  <body>',
    body,
    '    <script src="/dist/site.js"></script>',
    '  </body>',
    '</html>',
    '',
  ].join('\n')
}

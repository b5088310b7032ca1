/*
 * STAND-IN for TikTok's pixel library (https://analytics.tiktok.com/i18n/pixel/events.js), served offline
 * by the consent-gates harness. It is NOT TikTok's code: it imitates the documented wire format only as
 * far as a consent test needs it. It takes over the ttq queue of the pixel base code, sets the
 * first-party cookie _ttp and sends each event as POST https://analytics.tiktok.com/api/v2/pixel
 * (JSON, navigator.sendBeacon).
 */
;(function () {
  var q = window.ttq
  if (!q || q.__standin) return
  var pixels = []
  function ttp() {
    var m = document.cookie.match(/(?:^|; )_ttp=([^;]*)/)
    if (m) return m[1]
    var v = Math.random().toString(36).slice(2) + Date.now().toString(36)
    document.cookie = '_ttp=' + v + '; path=/; max-age=33696000; SameSite=Lax'
    return v
  }
  function send(event, properties, options) {
    pixels.forEach(function (code) {
      var body = {
        event: event,
        event_id: (options && options.event_id) || '',
        timestamp: new Date().toISOString(),
        context: { pixel: { code: code }, page: { url: location.href, referrer: document.referrer }, user: { ttp: ttp() } },
        properties: properties || {},
      }
      navigator.sendBeacon('https://analytics.tiktok.com/api/v2/pixel', new Blob([JSON.stringify(body)], { type: 'application/json' }))
    })
  }
  function handle(args) {
    var m = args[0]
    if (m === 'load') { if (pixels.indexOf(args[1]) < 0) pixels.push(args[1]) }
    else if (m === 'page') send('Pageview', {}, null)
    else if (m === 'track') send(args[1], args[2], args[3])
  }
  var queued = q.slice()
  var live = { __standin: true }
  ;['page', 'track', 'identify', 'load'].forEach(function (m) {
    live[m] = function () { handle([m].concat(Array.prototype.slice.call(arguments))) }
  })
  window.ttq = live
  queued.forEach(handle)
})()

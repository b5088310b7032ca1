/*
 * STAND-IN for Meta's Pixel library (https://connect.facebook.net/en_US/fbevents.js), served offline by the
 * consent-gates harness. It is NOT Meta's code: it imitates the documented wire format of the Pixel only
 * as far as a consent test needs it. It takes over the fbq queue of the Pixel base code, sets the
 * first-party cookie _fbp (fb.1.<ms>.<random>) and sends each event as an image request to
 * https://www.facebook.com/tr/?id=<pixel>&ev=<event>&dl=...&fbp=...&cd[...]=...
 */
;(function () {
  var fbq = window.fbq
  if (!fbq || fbq.__standin) return
  fbq.__standin = true
  var pixels = []

  function fbp() {
    var m = document.cookie.match(/(?:^|; )_fbp=([^;]*)/)
    if (m) return m[1]
    var v = 'fb.1.' + Date.now() + '.' + Math.floor(Math.random() * 2147483647)
    document.cookie = '_fbp=' + v + '; path=/; max-age=7776000; SameSite=Lax'
    return v
  }
  function send(pixel, ev, data, options) {
    var url =
      'https://www.facebook.com/tr/?id=' + encodeURIComponent(pixel) + '&ev=' + encodeURIComponent(ev) +
      '&dl=' + encodeURIComponent(location.href) + '&rl=' + encodeURIComponent(document.referrer) +
      '&if=false&ts=' + Date.now() + '&sw=' + screen.width + '&sh=' + screen.height +
      '&v=2.9.999&r=stable&fbp=' + encodeURIComponent(fbp())
    if (options && options.eventID) url += '&eid=' + encodeURIComponent(options.eventID)
    for (var k in data || {}) {
      var v = data[k]
      if (v == null) continue
      url += '&cd[' + encodeURIComponent(k) + ']=' + encodeURIComponent(typeof v === 'object' ? JSON.stringify(v) : v)
    }
    new Image().src = url
  }
  function handle(args) {
    var cmd = args[0]
    if (cmd === 'init') {
      if (pixels.indexOf(args[1]) < 0) pixels.push(args[1])
    } else if (cmd === 'track' || cmd === 'trackCustom') {
      pixels.forEach(function (p) { send(p, args[1], args[2], args[3]) })
    } else if (cmd === 'trackSingle' || cmd === 'trackSingleCustom') {
      send(args[1], args[2], args[3], args[4])
    }
  }
  fbq.callMethod = function () { handle(arguments) }
  var queued = fbq.queue || []
  fbq.queue = []
  for (var i = 0; i < queued.length; i++) handle(queued[i])
})()

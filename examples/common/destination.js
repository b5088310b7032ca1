// What the device-mode destination stand-ins share: Segment's action-destination bundles each define
// window['<dir>Destination'], a PluginFactory that analytics.js calls with the destination's
// remotePlugins[].settings and that returns the destination's plugins. A stand-in (a site's
// destinations/<dir>.js, bundled by scripts/build-sites.mjs into segment-cdn/) describes only its
// vendor: the script to inject, what to set up before and after it loads, and the event methods.

function loadScript(src) {
  return new Promise(function (resolve, reject) {
    var s = document.createElement('script')
    s.async = true
    s.src = src
    s.onload = function () { resolve(s) }
    s.onerror = function () { reject(new Error('Failed to load ' + src)) }
    document.head.appendChild(s)
  })
}

/**
 * Defines window[dir + 'Destination'] for the destination named `name`. `vendor(settings)` returns
 * {script, setUp?, onLoad?, page?, track?, identify?}: on load the plugin calls setUp(), injects
 * `script`, and once it has loaded calls onLoad() and reports itself loaded; each event method gets
 * the Segment context and returns it.
 */
export function defineDestination(dir, name, vendor) {
  window[dir + 'Destination'] = function (settings) {
    var v = vendor(settings)
    var loaded = false
    var plugin = {
      name: name,
      type: 'destination',
      version: '0.0.0-standin',
      isLoaded: function () { return loaded },
      load: function (ctx) {
        if (v.setUp) v.setUp()
        return loadScript(v.script).then(function () {
          if (v.onLoad) v.onLoad()
          loaded = true
          return ctx
        })
      },
    }
    ;['page', 'track', 'identify'].forEach(function (method) {
      if (v[method]) plugin[method] = v[method]
    })
    return [plugin]
  }
}

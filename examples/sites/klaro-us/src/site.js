// Trailhead Outfitters: a US site on the opt-out model (CPRA). Klaro feeds Segment's consent wrapper
// (@segment/analytics-consent-tools) with `consentModel: 'opt-out'`, and a Global Privacy Control
// browser without a stored choice has klaro's advertising services switched off before Segment loads.
// Bundled by scripts/setup into www/dist/site.js; the pieces are in trailhead.js, shared with the
// defect fixture tests/fixtures/gpc-ignored.
import { declineAdvertisingUnderGpc, loadSegment, startKlaro, trackTrails } from './trailhead.js'

const manager = startKlaro()
declineAdvertisingUnderGpc(manager)
loadSegment(manager)
trackTrails()

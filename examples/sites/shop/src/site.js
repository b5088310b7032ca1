// Lumen Shop: cookie banner (vanilla-cookieconsent v3, opt-in) gating Segment through Segment's
// consent wrapper (@segment/analytics-consent-tools). Bundled by scripts/setup into www/dist/site.js;
// the pieces are in lumen-shop.js, shared with the proxy-batch example and the defect fixtures.
import { runShop } from './lumen-shop.js'

runShop()

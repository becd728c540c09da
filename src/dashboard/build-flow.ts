/**
 * Writes flows/picomp-dashboard.json from flows/templates and
 * flows/functions. Run after editing a panel:
 *   npx tsc -p . && node dist/src/dashboard/build-flow.js
 */
import { writeFileSync } from 'node:fs';
import { FLOW_FILE, dashboardFlowJson } from './flow.js';

writeFileSync(FLOW_FILE, dashboardFlowJson());
process.stdout.write(`wrote ${FLOW_FILE}\n`);

/**
 * MQTT client ids of units. A client that connects with an id already in
 * use takes its place (MQTT says the old connection is closed), so the
 * broker reserves each unit's ids for that unit's own accounts: a viewer
 * reusing the unit's id would otherwise kick the unit, whose will then
 * says `offline`.
 */
import { randomBytes } from 'node:crypto';

const PREFIX = 'picomp-';

/** A fresh id for a unit's own client: `picomp-<unit>-<random>`. */
export function unitClientId(unitId: string): string {
  return `${PREFIX}${unitId}-${randomBytes(4).toString('hex')}`;
}

/** The unit whose id this is (anything shaped like a unit's id), or null. */
export function unitOfClientId(clientId: string): string | null {
  const m = /^picomp-([a-z0-9-]+)-[0-9a-f]{1,16}$/.exec(clientId);
  return m ? m[1]! : null;
}

/** A fresh id for a unit's dashboard (Node-RED): `picomp-dashboard.<unit>-<random>` ('.' never occurs in a unit id). */
export function dashboardClientId(unitId: string): string {
  return `${PREFIX}dashboard.${unitId}-${randomBytes(4).toString('hex')}`;
}

/** The unit whose dashboard's id this is, or null. */
export function unitOfDashboardClientId(clientId: string): string | null {
  const m = /^picomp-dashboard\.([a-z0-9-]+)-[0-9a-f]{1,16}$/.exec(clientId);
  return m ? m[1]! : null;
}

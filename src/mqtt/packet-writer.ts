/**
 * mqtt-packet (inside Aedes and MQTT.js) fills, on its first write, a table
 * of every two-byte number as its own Buffer: 65 536 of them, 6 MB of the
 * unit's 17 MB heap, for a saving of one tiny allocation per packet id or
 * topic length. The unit writes a few dozen packets a second, so it makes
 * them on the fly instead (the library's own switch; MQTT.js's `writeCache:
 * false` flips the same one).
 */
import mqttPacket from 'mqtt-packet';

/** Call before the first packet is written (a table already built stays built). */
export function writePacketsWithoutNumberTable(): void {
  mqttPacket.writeToStream.cacheNumbers = false;
}


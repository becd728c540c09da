/**
 * Who may publish and subscribe where, per role (SPEC §4 security).
 * Pure functions of an identity and a topic, so the broker hooks stay thin
 * and the rules can be read (and tested) in one place. What a topic means
 * comes from the topic grammar (topics.ts).
 */
import type { Role } from './users.js';
import { isCommand, isPresetCommand, parseTopic } from './topics.js';

export interface Identity {
  readonly name: string;
  readonly role: Role;
  /** An operator's unit. */
  readonly unit?: string;
}

/** Is `topic` a unit command topic, and for which unit ('all'/'group' are shared). */
export function commandTarget(baseTopic: string, topic: string): { unit: string } | { shared: true } | null {
  const t = parseTopic(baseTopic, topic);
  if (!t || !isCommand(t)) return null;
  switch (t.kind) {
    case 'unit': return { unit: t.unit };
    case 'all': case 'group': return { shared: true };
    case 'class': return null;
  }
}

/** Is `topic` a desired setting (class, group or unit): the teacher's to write (SPEC §5). */
export function isDesiredTopic(baseTopic: string, topic: string): boolean {
  const t = parseTopic(baseTopic, topic);
  return !!t && t.leaf === 'desired' && !t.deeper;
}

export function mayPublish(who: Identity, baseTopic: string, topic: string): boolean {
  if (topic.startsWith('$')) return false;
  switch (who.role) {
    case 'admin': return true;
    case 'viewer': return false;
    case 'teacher': return commandTarget(baseTopic, topic) !== null || isDesiredTopic(baseTopic, topic);
    case 'operator': {
      // Saving, renaming and deleting presets changes what every user of the unit sees: teachers and admins only.
      const parsed = parseTopic(baseTopic, topic);
      if (parsed && isPresetCommand(parsed)) return false;
      const target = commandTarget(baseTopic, topic);
      return target !== null && 'unit' in target && target.unit === who.unit;
    }
  }
}

/** Everyone who may connect may watch (the dashboard is for viewers too); $SYS is for admins. */
export function maySubscribe(who: Identity, topicFilter: string): boolean {
  if (who.role === 'admin') return true;
  return !topicFilter.startsWith('$');
}

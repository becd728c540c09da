/**
 * Who may publish and subscribe where, per role (SPEC §4 security).
 * Pure functions of an identity and a topic, so the broker hooks stay thin
 * and the rules can be read (and tested) in one place.
 */
import type { Role } from './users.js';

export interface Identity {
  readonly name: string;
  readonly role: Role;
  /** An operator's unit. */
  readonly unit?: string;
}

/** Levels under `<base>/<unit>/` that carry commands into a unit. */
function isCommandTail(tail: readonly string[]): boolean {
  if (tail.length === 1) return tail[0] === 'set' || tail[0] === 'get';
  return tail.length === 2 && tail[0] === 'set' && tail[1] !== '';
}

/** Is `topic` a unit command topic, and for which unit ('all'/'group' are shared). */
export function commandTarget(baseTopic: string, topic: string): { unit: string } | { shared: true } | null {
  const levels = topic.split('/');
  const base = baseTopic.split('/');
  if (levels.length <= base.length || base.some((b, i) => levels[i] !== b)) return null;
  const rest = levels.slice(base.length);
  if (rest[0] === 'all') return isCommandTail(rest.slice(1)) && rest[1] === 'set' ? { shared: true } : null;
  if (rest[0] === 'group') return rest.length >= 3 && rest[1] !== '' && rest[2] === 'set' && isCommandTail(rest.slice(2)) ? { shared: true } : null;
  return rest[0] !== '' && isCommandTail(rest.slice(1)) ? { unit: rest[0]! } : null;
}

export function mayPublish(who: Identity, baseTopic: string, topic: string): boolean {
  if (topic.startsWith('$')) return false;
  switch (who.role) {
    case 'admin': return true;
    case 'viewer': return false;
    case 'teacher': return commandTarget(baseTopic, topic) !== null;
    case 'operator': {
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

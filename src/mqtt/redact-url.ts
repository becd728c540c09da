/**
 * A broker URL as it may appear in a log line: any user name or password
 * in it replaced, so logs (and the journal they end up in) never hold a
 * secret, even one that slipped in through a config file.
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = '***';
    u.password = '';
    return u.toString();
  } catch {
    // Not a URL: keep what is before any '@' out of the log.
    return url.includes('@') ? `***@${url.slice(url.lastIndexOf('@') + 1)}` : url;
  }
}

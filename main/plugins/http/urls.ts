// URLs as the http plugin and the image formats see them: which text is one, and how one is
// shown in messages without its secrets.

/** `url` with its password hidden, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    for (const key of [...u.searchParams.keys()]) if (/signature|token|credential|sig$/i.test(key)) u.searchParams.set(key, '***');
    return u.href;
  } catch {
    return url;
  }
}

/** http:// or https://: what the http plugin and the image formats read over the network. */
export function isHttpUrl(text: string): boolean {
  return /^https?:\/\//i.test(text);
}

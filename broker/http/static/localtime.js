// Shows every <time datetime> of the page in the reader's time zone, in the page's language.
// The server writes them in UTC; without this script they stay so.
'use strict';
document.addEventListener('DOMContentLoaded', () => {
  const lang = document.documentElement.lang || undefined;
  let format;
  try {
    format = new Intl.DateTimeFormat(lang, { dateStyle: 'long', timeStyle: 'short' });
  } catch (e) {
    return;
  }
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  for (const el of document.querySelectorAll('time[datetime]')) {
    const at = new Date(el.getAttribute('datetime'));
    if (Number.isNaN(at.getTime())) continue;
    el.title = el.textContent;
    el.textContent = format.format(at) + (zone ? ` (${zone})` : '');
  }
});

import type { Subscriber } from '../../store/subscribers.ts';
import { html, raw, type SafeHtml } from '../html.ts';
import type { PageContext } from './layout.ts';

const HOURS = Array.from({ length: 24 }, (_, h) => h);
const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/** The full sign-up form (the subscribe page and "email me this search daily"). */
export function subscribeForm(ctx: PageContext, opts: { topic?: string | undefined; error?: string | undefined; email?: string | undefined } = {}): SafeHtml {
  return html`<form class="prose stack" method="post" action="/subscribe">
<input type="hidden" name="_csrf" value="${ctx.csrf}">
<input type="hidden" name="timezone" value="">
${opts.error ? html`<p class="notice" role="alert">${opts.error}</p>` : ''}
<p><label for="sub-email">Email address</label><br>
<input id="sub-email" type="email" name="email" required autocomplete="email" maxlength="254" value="${opts.email ?? ''}"></p>
<p><label for="sub-topic">Topic (a search; leave empty for everything trending)</label><br>
<input id="sub-topic" type="text" name="topic" maxlength="200" value="${opts.topic ?? ''}" placeholder="e.g. edge inference, cat:cs.CV"></p>
<div class="hp" aria-hidden="true"><label>Leave empty <input type="text" name="website" tabindex="-1" autocomplete="off"></label></div>
<p><button type="submit">Subscribe</button></p>
<p class="meta">We send one email a day at 07:00 your time (change it later). You will get a link to confirm first.</p>
</form>`;
}

export function checkInbox(): SafeHtml {
  return html`<div class="prose"><h1>Check your inbox</h1>
<p>If the address can receive our email, a message is on its way. Open the link in it to confirm (or to change your preferences, if you are already subscribed).</p>
<p class="meta">Nothing arrived? Look in the spam folder, or try again in ten minutes.</p>
<p><a href="/">Back to trending papers</a></p></div>`;
}

/** A page with one button: a link alone never changes anything (mail scanners follow links). */
export function buttonPage(title: string, text: string, action: string, button: string, csrf?: string): SafeHtml {
  return html`<div class="prose"><h1>${title}</h1><p>${text}</p>
<form method="post" action="${action}">${csrf ? html`<input type="hidden" name="_csrf" value="${csrf}">` : ''}<button type="submit">${button}</button></form></div>`;
}

export function preferencesForm(ctx: PageContext, s: Subscriber, action: string, unsubscribeUrl: string, notice?: string, extra?: SafeHtml | string): SafeHtml {
  const sel = (on: boolean) => (on ? raw(' selected') : '');
  const chk = (on: boolean) => (on ? raw(' checked') : '');
  return html`<div class="prose"><h1>Your digest</h1>
<p class="meta">For ${s.email} · ${s.status === 'confirmed' ? 'subscribed' : s.status}</p>
${notice ? html`<p class="notice" role="status">${notice}${extra ?? ''}</p>` : ''}
<form method="post" action="${action}" class="stack">
<input type="hidden" name="_csrf" value="${ctx.csrf}">
<p><label for="p-topics">Topics: one search per line (words, "phrases", author:"Name", cat:cs.CV). None: everything trending.</label><br>
<textarea id="p-topics" name="topics" rows="4" cols="50" maxlength="2200">${s.topics.join('\n')}</textarea></p>
<p><label for="p-hour">Delivery hour</label>
<select id="p-hour" name="deliveryHour">${HOURS.map((h) => html`<option value="${h}"${sel(h === s.deliveryHour)}>${String(h).padStart(2, '0')}:00</option>`)}</select>
<label for="p-tz">Time zone</label>
<input id="p-tz" type="text" name="timezone" value="${s.timezone}" maxlength="64" size="22"></p>
<p><label for="p-freq">How often</label>
<select id="p-freq" name="frequency">${(['daily', 'weekly', 'paused'] as const).map((f) => html`<option value="${f}"${sel(f === s.frequency)}>${f[0]!.toUpperCase() + f.slice(1)}</option>`)}</select>
<label for="p-wd">Weekly on</label>
<select id="p-wd" name="weekday">${WEEKDAYS.map((d, i) => html`<option value="${i + 1}"${sel(i + 1 === s.weekday)}>${d}</option>`)}</select></p>
<p><label for="p-n">Papers per digest</label> <input id="p-n" type="number" name="perDigest" min="1" max="50" value="${s.perDigest}"></p>
<input type="hidden" name="includeNew" value="false"><input type="hidden" name="skipEmpty" value="false">
<p><label><input type="checkbox" name="includeNew" value="true"${chk(s.includeNew)}> Add new papers in my topics beyond what is trending</label></p>
<p><label><input type="checkbox" name="skipEmpty" value="true"${chk(s.skipEmpty)}> Skip days with nothing new</label></p>
<p><button type="submit">Save preferences</button></p>
</form>
<form method="post" action="${action}/preview"><input type="hidden" name="_csrf" value="${ctx.csrf}"><p><button type="submit" class="quiet">Send me today's digest now</button></p></form>
<h2>Your data</h2>
<form method="post" action="${action}/export"><input type="hidden" name="_csrf" value="${ctx.csrf}"><button type="submit" class="quiet">Download my data (JSON)</button></form>
<form method="post" action="${action}/delete"><input type="hidden" name="_csrf" value="${ctx.csrf}"><p><button type="submit" class="quiet">Delete my subscription and data</button></p></form>
<p><a href="${unsubscribeUrl}">Unsubscribe</a></p>
</div>`;
}

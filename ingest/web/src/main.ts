import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { ApiError, api, type Session, storedKey, storeKey, whenUnauthorized } from './api.js';
import { el } from './dom.js';
import { dashboardPage } from './pages/dashboard.js';
import { advicePage, keysPage, pricesPage } from './pages/admin.js';
import { budgetsPage } from './pages/budgets.js';
import { callPage, callsPage, homePage, signInPage } from './pages/other.js';
import { currentRoute, href } from './route.js';

/** tokenmeter's web view: the generated dashboards, budgets and calls, drawn from the service's API. */
const app = document.getElementById('app') as HTMLElement;
let session: Session | undefined;
let stop: (() => void) | undefined;

async function signIn(key: string): Promise<void> {
  session = await api<Session>('/api/v1/web/session', { key });
  storeKey(key);
  await show();
}

function signOut(message = ''): void {
  stop?.();
  stop = undefined;
  session = undefined;
  storeKey(null);
  signInPage(app, signIn, message);
}

whenUnauthorized(() => signOut('Your key was not accepted: sign in again.'));

function nav(s: Session): HTMLElement {
  const who = `${s.role} key${s.tenant === '*' ? ' · all tenants' : ` · tenant ${s.tenant}`}`;
  const out = el('button', { class: 'btn', type: 'button', text: 'Sign out' });
  out.addEventListener('click', () => signOut());
  return el(
    'nav',
    { class: 'top' },
    el('a', { class: 'brand', href: href(''), text: 'tokenmeter' }),
    el('a', { href: href('d', ['tokenmeter-overview']), text: 'Overview' }),
    el('a', { href: href(''), text: 'Dashboards' }),
    s.budgets ? el('a', { href: href('budgets'), text: 'Budgets' }) : '',
    el('a', { href: href('calls'), text: 'Calls' }),
    // Only the pages this key can use: the service refuses the rest anyway.
    s.can.advice ? el('a', { href: href('advice'), text: 'Advice' }) : '',
    s.can.manageKeys ? el('a', { href: href('keys'), text: 'API keys' }) : '',
    s.can.managePrices ? el('a', { href: href('prices'), text: 'Prices' }) : '',
    el('span', { class: 'spacer' }),
    el('span', { class: 'muted who', text: who }),
    out,
  );
}

async function show(): Promise<void> {
  stop?.();
  stop = undefined;
  if (!session) {
    const key = storedKey();
    if (!key) return signInPage(app, signIn);
    try {
      session = await api<Session>('/api/v1/web/session', { key });
    } catch (err) {
      if (err instanceof ApiError && (err.status === 401 || err.status === 403))
        return signOut('That key was not accepted.');
      throw err;
    }
  }
  const route = currentRoute();
  const main = el('main', { 'data-page': route.page || 'home' });
  app.replaceChildren(nav(session), main);
  try {
    if (route.page === 'd') stop = await dashboardPage(main, route);
    else if (route.page === 'budgets' && session.budgets) await budgetsPage(main, route, session);
    else if (route.page === 'calls') await callsPage(main, route);
    else if (route.page === 'advice' && session.can.advice) await advicePage(main, route, session);
    else if (route.page === 'keys' && session.can.manageKeys) await keysPage(main, route, session);
    else if (route.page === 'prices' && session.can.managePrices) await pricesPage(main, route, session);
    else if (route.page === 'call') await callPage(main, route, session);
    else await homePage(main);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return;
    main.replaceChildren(el('p', { class: 'panel-error', text: (err as Error).message }));
  }
}

// The dashboard page rewrites its own query string with replaceState, which fires no
// hashchange: every hashchange is a navigation.
window.addEventListener('hashchange', () => void show());
void show();

// The Admin section (admins only: Team, Groups, Settings, Bans, Webhooks), the Account section (everyone),
// and the "Ban visitor" dialog of the More menu. console.js mounts these through one hook:
// createAdminSections() -> { sections: {admin?, account}, ban(chat), destroy() }, each section a
// factory of {el, show(on), destroy()?}, which console.js's section table calls on the first open.
import { h, show } from '../../ui-common/dom.js';
import { T, L, onLang } from './i18n.js';
import { createTeam } from './admin_team.js';
import { createSettings } from './admin_settings.js';
import { createBans } from './admin_bans.js';
import { createGroups } from './admin_groups.js';
import { createWebhooks } from './admin_webhooks.js';
import { createTagsAdmin } from './admin_tags.js';
import { createAccount } from './account.js';
import { createBanDialog } from './ban.js';

export function createAdminSections({ auth, me, isAdmin, flash, renamed, showVisitors, tags }) {
  const request = auth.request;
  const banDialog = createBanDialog({ request, flash });
  const account = () => createAccount({ auth, me, renamed });

  function admin() {
    const subs = {
      team: createTeam({ request, me }),
      groups: createGroups({ request }),
      settings: createSettings({ request, showVisitors }),
      bans: createBans({ request }),
      webhooks: createWebhooks({ request }),
      tags: createTagsAdmin({ request, store: tags }),
    };
    let current = 'team';
    const buttons = {};
    for (const key of Object.keys(subs)) {
      buttons[key] = h('button', {
        type: 'button', class: 'tab', 'data-testid': 'admin-nav-' + key, 'aria-pressed': String(key === current), ...T(key),
        onclick: () => pick(key),
      });
    }
    const nav = h('nav', { class: 'tabs admin-nav', ...L('adminSections') }, ...Object.values(buttons));
    const view = h('section', { class: 'visitors-view admin-view', 'data-testid': 'admin-view', hidden: true },
      nav, ...Object.values(subs).map((s) => s.el));
    const pick = (key) => {
      if (current === 'webhooks' && key !== 'webhooks') subs.webhooks.hide();
      current = key;
      for (const [k, s] of Object.entries(subs)) {
        show(s.el, k === key);
        buttons[k].setAttribute('aria-pressed', String(k === key));
      }
      subs[key].load();
    };
    for (const [k, s] of Object.entries(subs)) show(s.el, k === current);
    const off = onLang(() => {
      subs.team.render();
      subs.bans.render();
      subs.groups.render();
      subs.webhooks.render();
      subs.tags.render();
    });
    return {
      el: view,
      show(on) {
        const was = !view.hidden;
        show(view, on);
        if (on && !was) pick(current);
      },
      destroy: off,
    };
  }

  return {
    sections: isAdmin ? { admin, account } : { account },
    ban: (cs) => banDialog.open(cs),
    destroy: () => banDialog.destroy(),
  };
}

// views/avatar.js: a member's avatar as DOM: the coloured initial, with the profile picture
// over it once it has loaded (a picture still on its way to this boat, 409, is asked again a
// few times); and the member's name per the display setting.

import { h } from '../dom.js';
import { store } from '../state.js';
import { AVATAR_COLORS, PICTURE_RETRIES, PICTURE_RETRY_MS, displaySettings, hashOf, initialOf, memberFor, pictureUrl, shownName } from '../profile.js';

/** The member who wrote `post`, if the member list knows them. */
export function authorOf(post) {
  return memberFor(store.members, post.author_key, post.author);
}

/** The name to show for a post's author, per the "Teammate name display" setting. */
export function authorName(post) {
  return shownName(authorOf(post), displaySettings().nameDisplay, post.author);
}

/** The picture <img> over an avatar: shown when loaded, asked again while it is on its way. */
function pictureImg(member) {
  const url = pictureUrl(store.flotillaId, member.picture);
  const img = h('img', { class: 'avatar-img', alt: '', decoding: 'async', dataset: { picture: member.picture } });
  img.hidden = true;
  let tries = 0;
  img.addEventListener('load', () => {
    img.hidden = false;
  });
  img.addEventListener('error', () => {
    img.hidden = true;
    tries += 1;
    if (tries > PICTURE_RETRIES) return;
    setTimeout(() => {
      if (img.isConnected) img.src = `${url}?try=${tries}`;
    }, PICTURE_RETRY_MS);
  });
  img.src = url;
  return img;
}

/** An avatar for `member` (or, unknown, for `name`/`key`): picture if set, else the initial. */
export function avatarFor(member, name, key, extraClass = '') {
  const label = member ? member.display || member.username : name;
  const colour = hashOf(key || (member && member.key) || label) % AVATAR_COLORS;
  const el = h('span', { class: `avatar c${colour} ${extraClass}`.trim(), 'aria-hidden': 'true' }, initialOf(label));
  if (member && member.picture && store.flotillaId) el.append(pictureImg(member));
  return el;
}

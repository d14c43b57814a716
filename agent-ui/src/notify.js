// Desktop notifications and a short beep (WebAudio, no audio file). Browsers only allow both after
// a user gesture, so the first click in the console unlocks audio and asks for permission, once.
import { store } from '../../ui-common/storage.js';

const local = store('localStorage');
const MUTE_KEY = 'charla.agent.muted';
const ASKED_KEY = 'charla.agent.notify-asked';

export function createNotifier() {
  let muted = !!local.get(MUTE_KEY);
  let audio = null;

  function unlock() {
    const AC = window.AudioContext || window.webkitAudioContext;
    if (!audio && AC) audio = new AC();
    if (audio && audio.state === 'suspended') audio.resume().catch(() => {});
    if (window.Notification && Notification.permission === 'default' && !local.get(ASKED_KEY)) {
      local.set(ASKED_KEY, 1);
      try { Notification.requestPermission(); } catch (e) { /* old API shape */ }
    }
  }
  document.addEventListener('pointerdown', unlock, true);
  document.addEventListener('keydown', unlock, true);

  function beep() {
    if (muted || !audio || audio.state !== 'running') return;
    const t0 = audio.currentTime;
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.0001, t0);
    gain.gain.exponentialRampToValueAtTime(0.2, t0 + 0.01);
    gain.gain.exponentialRampToValueAtTime(0.0001, t0 + 0.18);
    osc.connect(gain).connect(audio.destination);
    osc.start(t0);
    osc.stop(t0 + 0.2);
  }

  return {
    get muted() { return muted; },
    setMuted(on) {
      muted = !!on;
      local.set(MUTE_KEY, muted);
    },
    // `tag` collapses repeated notices for the same chat into one.
    notify(title, body, tag, onClick) {
      beep();
      if (!window.Notification || Notification.permission !== 'granted') return;
      try {
        const n = new Notification(title, { body, tag, renotify: true });
        n.onclick = () => {
          window.focus();
          n.close();
          onClick && onClick();
        };
      } catch (e) { /* some mobile browsers only allow service-worker notifications */ }
    },
    destroy() {
      document.removeEventListener('pointerdown', unlock, true);
      document.removeEventListener('keydown', unlock, true);
      if (audio) audio.close().catch(() => {});
    },
  };
}

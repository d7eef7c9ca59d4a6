"use client";
/**
 * Web Push for reminders while no tab is open: the service worker (public/sw.js) shows them. Once the person has
 * allowed notifications, the browser subscribes with the API's VAPID public key and the subscription is registered
 * at `POST /{user_id}/push-subscriptions` (the API keeps one per browser). Nothing happens where the browser or
 * the API cannot push (no service worker, no VAPID key, no reachable push service): reminders then arrive as live
 * events while the app is open.
 */
import { call } from "./api";
import type { TaskApi } from "./useTaskApi";

function applicationServerKey(base64url: string): Uint8Array<ArrayBuffer> {
  const base64 = (base64url + "=".repeat((4 - (base64url.length % 4)) % 4)).replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
}

export async function subscribeToPush(api: TaskApi, userId: string): Promise<void> {
  if (!("serviceWorker" in navigator) || !("PushManager" in window) || Notification.permission !== "granted") return;
  const path = { user_id: userId };
  try {
    const { data } = await call(() => api.client.GET("/{user_id}/push-subscriptions", { params: { path } }));
    if (!data.vapid_public_key) return;
    const registration = await navigator.serviceWorker.register("/sw.js");
    const subscription =
      (await registration.pushManager.getSubscription()) ??
      (await registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: applicationServerKey(data.vapid_public_key),
      }));
    const { endpoint, keys } = subscription.toJSON();
    if (!endpoint || !keys?.p256dh || !keys.auth) return;
    await call(() =>
      api.client.POST("/{user_id}/push-subscriptions", {
        params: { path },
        body: { endpoint, keys: { p256dh: keys.p256dh!, auth: keys.auth! } },
      }),
    );
  } catch {
    // No push here (a push service out of reach, a refused endpoint): live events still bring reminders.
  }
}

/** Stop pushing this person's reminders to this browser: its subscription removed at the API, then in the browser
 * (the next person to sign in here must not get them). Best effort: without the API, the browser's goes anyway,
 * and the push service answers the API's next push with 410. */
export async function unsubscribeFromPush(api: TaskApi, userId: string): Promise<void> {
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) return;
  const registration = await navigator.serviceWorker.getRegistration("/sw.js");
  const subscription = await registration?.pushManager.getSubscription();
  if (!subscription) return;
  const path = { user_id: userId };
  try {
    const { data } = await call(() => api.client.GET("/{user_id}/push-subscriptions", { params: { path } }));
    const mine = data.items.find((item) => item.endpoint === subscription.endpoint);
    if (mine) {
      await call(() =>
        api.client.DELETE("/{user_id}/push-subscriptions/{subscription_id}", {
          params: { path: { ...path, subscription_id: mine.id } },
        }),
      );
    }
  } catch {
    // The API out of reach: the browser's subscription goes below all the same.
  }
  await subscription.unsubscribe();
}

// The app's service worker: shows the reminders the Task API pushes (Web Push) while no tab of the app is open.
// A push's data is {"type": "reminder", "id", "title", "due_at", "remind_at"} (openapi.yaml: push).
self.addEventListener("push", (event) => {
  const data = event.data ? event.data.json() : {};
  if (data.type !== "reminder") return;
  event.waitUntil(
    // The same tag as the page's own notification (lib/notifications.ts): one reminder is shown once.
    self.registration.showNotification("Reminder", { body: data.title, tag: `${data.id}@${data.remind_at}` }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(
    self.clients.matchAll({ type: "window" }).then((windows) => (windows[0] ? windows[0].focus() : self.clients.openWindow("/"))),
  );
});

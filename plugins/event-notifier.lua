-- Records every committed change in the audit log's details (a stand-in for a chat or e-mail
-- notification, which a sandboxed plugin cannot send).
return {
  name = "event-notifier",
  version = "1.0.0",
  description = "Writes each event to the audit log",

  on_event = function(event)
    ss.log(string.format("%s %s by %s", event.type, event.target, event.actor))
  end,

  tests = {
    ["logs without failing"] = function(t)
      t.plugin.on_event({ type = "subscription.canceled", target = "sub_x", actor = "a@b.c", details = {} })
      t.ok(true)
    end,
  },
}

-- Payment rules: no American Express, a postal code on every card, and no card that expires
-- within 60 days (it would fail at the next renewal).
local function months_left(card)
  local now = ss.now()
  local y, m = tonumber(now:sub(1, 4)), tonumber(now:sub(6, 7))
  return (card.exp_year - y) * 12 + (card.exp_month - m)
end

return {
  name = "payment-policy",
  version = "1.1.0",
  description = "Refuse Amex, require a postal code, refuse cards expiring within 60 days",

  validate_payment_method = function(card)
    if card.brand == "amex" then
      return false, "American Express cards are not accepted; use Visa or Mastercard"
    end
    if card.postal_code == nil or card.postal_code == "" then
      return false, "a postal code is required (--postal-code)"
    end
    if months_left(card) < 2 then
      return false, "the card expires within 60 days; use a card valid for longer"
    end
  end,

  tests = {
    ["amex is refused"] = function(t)
      local ok, msg = t.plugin.validate_payment_method({ brand = "amex", last4 = "0005", exp_month = 12, exp_year = 2099, postal_code = "1" })
      t.eq(ok, false)
      t.match(msg, "American Express")
    end,
    ["a postal code is required"] = function(t)
      local ok, msg = t.plugin.validate_payment_method({ brand = "visa", last4 = "4242", exp_month = 12, exp_year = 2099 })
      t.eq(ok, false)
      t.match(msg, "postal code")
    end,
    ["a card valid for years passes"] = function(t)
      t.eq(t.plugin.validate_payment_method({ brand = "visa", last4 = "4242", exp_month = 12, exp_year = 2099, postal_code = "98052" }), nil)
    end,
  },
}

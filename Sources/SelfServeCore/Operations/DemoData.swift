/// Sample data for `init --demo`: people, cards, purchases, trials, assignments, a cancellation.
/// Deterministic, so that the README's walkthrough reads the same on every machine.
public enum DemoData {
    static let members: [(String, String)] = [
        ("adele.vance", "Adele Vance"), ("alex.wilber", "Alex Wilber"), ("diego.siciliani", "Diego Siciliani"),
        ("grady.archie", "Grady Archie"), ("henrietta.mueller", "Henrietta Mueller"),
        ("isaiah.langer", "Isaiah Langer"),
        ("johanna.lorenz", "Johanna Lorenz"), ("joni.sherman", "Joni Sherman"), ("lee.gu", "Lee Gu"),
        ("lidia.holloway", "Lidia Holloway"), ("lynne.robbins", "Lynne Robbins"), ("megan.bowen", "Megan Bowen"),
        ("miriam.graham", "Miriam Graham"), ("nestor.wilke", "Nestor Wilke"), ("patti.fernandez", "Patti Fernandez"),
        ("pradeep.gupta", "Pradeep Gupta"),
    ]

    public static func populate(_ ctx: CommandContext) throws {
        let admin = try ctx.actor()
        let domain = String(admin.email.split(separator: "@").last ?? "contoso.com")
        func email(_ local: String) -> String { "\(local)@\(domain)" }
        for (i, (local, name)) in members.enumerated() {
            try ctx.store.insertUser(
                User(
                    email: email(local),
                    name: name,
                    kind: .member,
                    role: i == 0 ? .admin : .user,
                    status: .active,
                    createdAt: ctx.timestamp
                )
            )
        }
        try ctx.store.insertUser(
            User(
                email: "chris.partner@fabrikam.com",
                name: "Chris Partner",
                kind: .guest,
                role: .user,
                status: .active,
                createdAt: ctx.timestamp
            )
        )
        try ctx.store.insertUser(
            User(
                email: "sam.consultant@fabrikam.com",
                name: "Sam Consultant",
                kind: .guest,
                role: .user,
                status: .active,
                createdAt: ctx.timestamp
            )
        )
        // Public test card numbers that payment providers publish; never real cards.
        let expiry = "12/\((ctx.today.year + 3) % 100)"
        func act(_ local: String, daysAgo: Int = 0, _ body: (CommandContext) throws -> Void) throws {
            let other = ctx.acting(as: email(local), daysAgo: daysAgo)
            try body(other)
            ctx.absorb(other)
        }
        var powerBI = ""
        var teams = ""
        try act("megan.bowen", daysAgo: 130) { c in
            _ = try c.addPaymentMethod(
                CardInput(number: "4242424242424242", expiry: expiry, securityCode: "123"),
                .init(
                    holder: "Megan Bowen",
                    address: PostalAddress(
                        line1: "1 Microsoft Way",
                        city: "Redmond",
                        postalCode: "98052",
                        country: "US"
                    )
                )
            )
            let s = try c.buy(product: "power-bi-pro", licenses: 25, term: nil, paymentMethod: nil)
            powerBI = s.subscription.id
            _ = try c.assign(
                powerBI,
                emails: ["megan.bowen", "alex.wilber", "diego.siciliani", "lee.gu", "joni.sherman", "lynne.robbins"]
                    .map(email)
            )
            _ = try c.buy(product: "visio-plan-2", licenses: 5, term: nil, paymentMethod: nil)
        }
        try act("megan.bowen", daysAgo: 50) { c in _ = try c.setLicenses(powerBI, total: 30) }
        try act("megan.bowen") { c in _ = try c.startTrial(product: "power-apps-premium", paymentMethod: nil) }
        try act("alex.wilber", daysAgo: 95) { c in
            _ = try c.addPaymentMethod(
                CardInput(number: "5555555555554444", expiry: expiry, securityCode: "321"),
                .init(holder: "Alex Wilber", address: PostalAddress(city: "Madrid", postalCode: "28001", country: "ES"))
            )
            let s = try c.buy(product: "project-plan-3", licenses: 10, term: nil, paymentMethod: nil)
            _ = try c.assign(s.subscription.id, emails: ["alex.wilber", "isaiah.langer", "johanna.lorenz"].map(email))
        }
        try act("alex.wilber", daysAgo: 12) { c in
            let t = try c.buy(product: "teams-premium", licenses: 3, term: nil, paymentMethod: nil)
            teams = t.subscription.id
        }
        try act("alex.wilber") { c in
            _ = try c.cancel(teams, reason: "too_expensive", comment: "Trying the standard plan first")
        }
        try act("diego.siciliani", daysAgo: 70) { c in
            _ = try c.addPaymentMethod(
                CardInput(number: "378282246310005", expiry: expiry, securityCode: "1234"),
                .init(
                    holder: "Diego Siciliani",
                    address: PostalAddress(city: "Seattle", postalCode: "98101", country: "US")
                )
            )
            _ = try c.buy(product: "power-automate-premium", licenses: 8, term: nil, paymentMethod: nil)
        }
        // A product people may only try, and one they may not buy at all.
        if var p = try ctx.store.product(idOrName: "dynamics-365-sales-professional") {
            p.selfService = .trialsOnly
            try ctx.store.upsertProduct(p)
        }
        if var p = try ctx.store.product(idOrName: "windows-365-business") {
            p.selfService = .disabled
            try ctx.store.upsertProduct(p)
        }
        try act("lee.gu") { c in _ = try c.startTrial(product: "dynamics-365-sales-professional", paymentMethod: nil) }
        // A few months of invoices, as the billing service would have made them.
        let billing = ctx.acting(as: nil)
        try billing.billingRun()
        ctx.absorb(billing)
        ctx.audit("org.demo", target: domain, [("users", PlainValue(members.count + 2))])
    }
}

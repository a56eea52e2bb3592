using CallNotify.Domain.Bindings;
using CallNotify.Domain.Common;

namespace CallNotify.Domain.Tests.Bindings;

public class BindingTests
{
    private static readonly AccountSid Account = AccountSid.Parse("AC0123456789abcdef0123456789abcdef");
    private static readonly AccountSid OtherAccount = AccountSid.Parse("ACfedcba9876543210fedcba9876543210");
    private static readonly ClientIdentity Alice = ClientIdentity.Parse("alice");
    private static readonly ClientIdentity Bob = ClientIdentity.Parse("bob");
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Ttl = TimeSpan.FromDays(30);

    private static Binding RegisterFcm(string token = "fcm-token-1") =>
        Binding.Register(Account, Alice, ChannelKind.Fcm, PushAddress.Parse(ChannelKind.Fcm, token), ApnsEnvironment.Production, null, Now, Ttl);

    [Test]
    public void RegisterMakesAnActiveBindingThatExpiresAfterTheTtl()
    {
        var binding = RegisterFcm();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Ids.IsValid(Ids.BindingPrefix, binding.Id), Is.True);
            Assert.That(binding.AccountSid, Is.EqualTo(Account));
            Assert.That(binding.Identity.Value, Is.EqualTo("alice"));
            Assert.That(binding.Channel, Is.EqualTo(ChannelKind.Fcm));
            Assert.That(binding.Address.Value, Is.EqualTo("fcm-token-1"));
            Assert.That(binding.Status, Is.EqualTo(BindingStatus.Active));
            Assert.That(binding.InactiveReason, Is.Null);
            Assert.That(binding.CreatedAt, Is.EqualTo(Now));
            Assert.That(binding.UpdatedAt, Is.EqualTo(Now));
            Assert.That(binding.ExpiresAt, Is.EqualTo(Now + Ttl));
            Assert.That(binding.LastDeliveryAt, Is.Null);
        }
    }

    [Test]
    public void IsUsableOnlyWhileActiveAndUnexpired()
    {
        var binding = RegisterFcm();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(binding.IsUsableAt(Now), Is.True);
            Assert.That(binding.IsUsableAt(Now + Ttl - TimeSpan.FromTicks(1)), Is.True);
            Assert.That(binding.IsUsableAt(Now + Ttl), Is.False);
        }

        binding.Deactivate(InactiveReasons.Unregistered, Now);

        Assert.That(binding.IsUsableAt(Now), Is.False);
    }

    [Test]
    public void RegisterRefusesTheWebSocketChannel()
    {
        Assert.That(
            () => Binding.Register(Account, Alice, ChannelKind.WebSocket, PushAddress.Parse(ChannelKind.WebSocket, "WS1"), ApnsEnvironment.Production, null, Now, Ttl),
            Throws.TypeOf<DomainException>().With.Property(nameof(DomainException.Field)).EqualTo("channel"));
    }

    [TestCase(0)]
    [TestCase(-1)]
    public void RegisterRefusesANonPositiveTtl(int seconds)
    {
        Assert.That(
            () => Binding.Register(Account, Alice, ChannelKind.Fcm, PushAddress.Parse(ChannelKind.Fcm, "t"), ApnsEnvironment.Production, null, Now, TimeSpan.FromSeconds(seconds)),
            Throws.TypeOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void FcmBindingDropsEnvironmentAndAppId()
    {
        var binding = Binding.Register(
            Account, Alice, ChannelKind.Fcm, PushAddress.Parse(ChannelKind.Fcm, "fcm-token"), ApnsEnvironment.Sandbox, "com.example.app", Now, Ttl);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(binding.Environment, Is.EqualTo(ApnsEnvironment.Production));
            Assert.That(binding.AppId, Is.Null);
        }
    }

    [TestCase(ChannelKind.ApnsVoip)]
    [TestCase(ChannelKind.Apns)]
    public void ApnsBindingKeepsEnvironmentAndAppId(ChannelKind channel)
    {
        var binding = Binding.Register(
            Account, Alice, channel, PushAddress.Parse(channel, "abcdef0123"), ApnsEnvironment.Sandbox, "com.example.app", Now, Ttl);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(binding.Environment, Is.EqualTo(ApnsEnvironment.Sandbox));
            Assert.That(binding.AppId, Is.EqualTo("com.example.app"));
        }
    }

    [TestCase(0)]
    [TestCase(Binding.MaxAppIdLength + 1)]
    public void RefusesAppIdOutsideItsLength(int length)
    {
        Assert.That(
            () => Binding.Register(Account, Alice, ChannelKind.Apns, PushAddress.Parse(ChannelKind.Apns, "abcdef"), ApnsEnvironment.Production, new string('a', length), Now, Ttl),
            Throws.TypeOf<DomainException>().With.Property(nameof(DomainException.Field)).EqualTo("appId"));
    }

    [TestCase("com.example\u0000app")]
    [TestCase("com.example.app\n")]
    public void RefusesAppIdWithAControlCharacter(string appId)
    {
        Assert.That(
            () => Binding.Register(Account, Alice, ChannelKind.ApnsVoip, PushAddress.Parse(ChannelKind.ApnsVoip, "abcdef"), ApnsEnvironment.Production, appId, Now, Ttl),
            Throws.TypeOf<DomainException>().With.Property(nameof(DomainException.Field)).EqualTo("appId"));
    }

    [Test]
    public void ReregisterMovesTheBindingToAnotherIdentityAndAccount()
    {
        var binding = RegisterFcm();
        var id = binding.Id;
        var later = Now.AddHours(5);

        binding.Reregister(OtherAccount, Bob, ApnsEnvironment.Production, null, later, Ttl);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(binding.Id, Is.EqualTo(id));
            Assert.That(binding.AccountSid, Is.EqualTo(OtherAccount));
            Assert.That(binding.Identity.Value, Is.EqualTo("bob"));
            Assert.That(binding.Address.Value, Is.EqualTo("fcm-token-1"));
            Assert.That(binding.CreatedAt, Is.EqualTo(Now));
            Assert.That(binding.UpdatedAt, Is.EqualTo(later));
            Assert.That(binding.ExpiresAt, Is.EqualTo(later + Ttl));
        }
    }

    [Test]
    public void ReregisterReactivatesAnInactiveBindingAndClearsTheReason()
    {
        var binding = RegisterFcm();
        binding.Deactivate(InactiveReasons.InvalidToken, Now.AddMinutes(1));
        var later = Now.AddDays(2);

        binding.Reregister(Account, Alice, ApnsEnvironment.Production, null, later, Ttl);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(binding.Status, Is.EqualTo(BindingStatus.Active));
            Assert.That(binding.InactiveReason, Is.Null);
            Assert.That(binding.ExpiresAt, Is.EqualTo(later + Ttl));
            Assert.That(binding.IsUsableAt(later), Is.True);
        }
    }

    [Test]
    public void ReregisterRevivesAnExpiredBinding()
    {
        var binding = RegisterFcm();
        var afterExpiry = Now + Ttl + TimeSpan.FromDays(1);

        binding.Reregister(Account, Alice, ApnsEnvironment.Production, null, afterExpiry, Ttl);

        Assert.That(binding.IsUsableAt(afterExpiry), Is.True);
    }

    [Test]
    public void ReregisterUpdatesApnsEnvironmentAndAppId()
    {
        var binding = Binding.Register(
            Account, Alice, ChannelKind.ApnsVoip, PushAddress.Parse(ChannelKind.ApnsVoip, "abcdef"), ApnsEnvironment.Production, "com.example.one", Now, Ttl);

        binding.Reregister(Account, Alice, ApnsEnvironment.Sandbox, "com.example.two", Now.AddMinutes(1), Ttl);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(binding.Environment, Is.EqualTo(ApnsEnvironment.Sandbox));
            Assert.That(binding.AppId, Is.EqualTo("com.example.two"));
        }
    }

    [Test]
    public void DeactivateRecordsTheReasonAndTime()
    {
        var binding = RegisterFcm();
        var later = Now.AddMinutes(3);

        var changed = binding.Deactivate(InactiveReasons.Unregistered, later);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(changed, Is.True);
            Assert.That(binding.Status, Is.EqualTo(BindingStatus.Inactive));
            Assert.That(binding.InactiveReason, Is.EqualTo(InactiveReasons.Unregistered));
            Assert.That(binding.UpdatedAt, Is.EqualTo(later));
        }
    }

    [Test]
    public void DeactivatingTwiceKeepsTheFirstReason()
    {
        var binding = RegisterFcm();
        binding.Deactivate(InactiveReasons.Unregistered, Now.AddMinutes(1));

        var changed = binding.Deactivate(InactiveReasons.Superseded, Now.AddMinutes(2));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(changed, Is.False);
            Assert.That(binding.InactiveReason, Is.EqualTo(InactiveReasons.Unregistered));
            Assert.That(binding.UpdatedAt, Is.EqualTo(Now.AddMinutes(1)));
        }
    }

    [TestCase("")]
    [TestCase("  ")]
    public void DeactivateRequiresAReason(string reason)
    {
        var binding = RegisterFcm();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(() => binding.Deactivate(reason, Now), Throws.InstanceOf<ArgumentException>());
            Assert.That(binding.Status, Is.EqualTo(BindingStatus.Active));
        }
    }

    [Test]
    public void RecordDeliveryStampsLastDelivery()
    {
        var binding = RegisterFcm();

        binding.RecordDelivery(Now.AddSeconds(9));

        Assert.That(binding.LastDeliveryAt, Is.EqualTo(Now.AddSeconds(9)));
    }

    [Test]
    public void TheQueryFilterAndTheMethodAreOneRule()
    {
        var active = RegisterFcm("fcm-token-active");
        var inactive = RegisterFcm("fcm-token-inactive");
        inactive.Deactivate(InactiveReasons.Unregistered, Now);
        Binding[] bindings = [active, inactive];
        var cases =
            from binding in bindings
            from account in new[] { Account, OtherAccount }
            from identity in new[] { Alice, Bob }
            from at in new[] { Now, Now + Ttl - TimeSpan.FromTicks(1), Now + Ttl }
            select (binding, account, identity, at);

        foreach (var (binding, account, identity, at) in cases)
        {
            var filter = Binding.ServingCalleeAt(account, identity, at).Compile();
            Assert.That(
                filter(binding),
                Is.EqualTo(binding.ServesCalleeAt(account, identity, at)),
                $"{binding.Status} binding of alice, asked for {account.Value}/{identity.Value} at {at:O}");
        }

        Assert.That(active.ServesCalleeAt(Account, Alice, Now), Is.True, "the active binding serves its own callee");
    }
}

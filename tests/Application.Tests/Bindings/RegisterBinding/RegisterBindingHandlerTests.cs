using CallNotify.Application.Bindings.RegisterBinding;
using CallNotify.Application.Common.Options;
using CallNotify.Application.Tests.Fakes;
using CallNotify.Application.Tests.Support;
using CallNotify.Domain.Bindings;
using CallNotify.Domain.Common;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CallNotify.Application.Tests.Bindings.RegisterBinding;

public class RegisterBindingHandlerTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private InMemoryBindingRepository _bindings = null!;
    private FakeTimeProvider _time = null!;
    private RegisterBindingHandler _handler = null!;

    [SetUp]
    public void SetUp()
    {
        _bindings = new InMemoryBindingRepository();
        _time = new FakeTimeProvider(Start);
        _handler = Handler(maxPerIdentity: 20);
    }

    private RegisterBindingHandler Handler(int maxPerIdentity) =>
        new(_bindings, Options.Create(new BindingOptions { MaxPerIdentity = maxPerIdentity, TtlDays = 30 }), _time);

    private static RegisterBindingCommand Fcm(string token, string identity = "bob", string accountSid = TestData.AccountSidValue) =>
        new(accountSid, identity, "fcm", token, null, null);

    private static Task<RegisterBindingResult> RegisterAsync(RegisterBindingHandler handler, RegisterBindingCommand command) =>
        handler.Handle(command, CancellationToken.None).AsTask().WaitAsync(Bound);

    private Task<RegisterBindingResult> RegisterAsync(RegisterBindingCommand command) => RegisterAsync(_handler, command);

    [Test]
    public async Task ANewAddressCreatesAnActiveBinding()
    {
        var result = await RegisterAsync(Fcm("fcm-token-1"));

        var stored = _bindings.All.Single();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Created, Is.True);
            Assert.That(result.Binding.Id, Is.EqualTo(stored.Id));
            Assert.That(result.Binding.AccountSid, Is.EqualTo(TestData.AccountSidValue));
            Assert.That(result.Binding.Identity, Is.EqualTo("bob"));
            Assert.That(result.Binding.Channel, Is.EqualTo("fcm"));
            Assert.That(result.Binding.Address, Is.EqualTo("fcm-token-1"));
            Assert.That(result.Binding.Environment, Is.EqualTo("production"));
            Assert.That(result.Binding.Status, Is.EqualTo("active"));
            Assert.That(result.Binding.CreatedAt, Is.EqualTo(Start));
            Assert.That(result.Binding.ExpiresAt, Is.EqualTo(Start.AddDays(30)));
            Assert.That(stored.Status, Is.EqualTo(BindingStatus.Active));
        }
    }

    [Test]
    public async Task AnApnsBindingKeepsItsEnvironmentAndAppIdAndLowerCasesTheToken()
    {
        var result = await RegisterAsync(new RegisterBindingCommand(
            TestData.AccountSidValue, "bob", "apns-voip", "ABCDEF0123456789", "sandbox", "com.example.voice"));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Binding.Channel, Is.EqualTo("apns-voip"));
            Assert.That(result.Binding.Address, Is.EqualTo("abcdef0123456789"));
            Assert.That(result.Binding.Environment, Is.EqualTo("sandbox"));
            Assert.That(result.Binding.AppId, Is.EqualTo("com.example.voice"));
        }
    }

    [Test]
    public async Task TheSameAddressAgainMovesTheBindingAndRefreshesItsTtl()
    {
        var first = await RegisterAsync(Fcm("fcm-token-1", identity: "alice"));
        _time.Advance(TimeSpan.FromDays(3));

        var second = await RegisterAsync(Fcm("fcm-token-1", identity: "bob", accountSid: TestData.OtherAccountSidValue));

        var stored = _bindings.All.Single();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(second.Created, Is.False);
            Assert.That(second.Binding.Id, Is.EqualTo(first.Binding.Id));
            Assert.That(stored.Identity.Value, Is.EqualTo("bob"));
            Assert.That(stored.AccountSid.Value, Is.EqualTo(TestData.OtherAccountSidValue));
            Assert.That(stored.CreatedAt, Is.EqualTo(Start));
            Assert.That(stored.UpdatedAt, Is.EqualTo(Start.AddDays(3)));
            Assert.That(stored.ExpiresAt, Is.EqualTo(Start.AddDays(33)));
            Assert.That(second.Binding.ExpiresAt, Is.EqualTo(Start.AddDays(33)));
        }
    }

    [Test]
    public async Task TheSameTokenOnAnotherChannelIsAnotherBinding()
    {
        await RegisterAsync(new RegisterBindingCommand(TestData.AccountSidValue, "bob", "apns", "abcdef", null, null));

        var voip = await RegisterAsync(new RegisterBindingCommand(TestData.AccountSidValue, "bob", "apns-voip", "abcdef", null, null));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(voip.Created, Is.True);
            Assert.That(_bindings.All, Has.Count.EqualTo(2));
        }
    }

    [Test]
    public async Task AnApnsTokenInUpperCaseFindsTheLowerCaseBinding()
    {
        await RegisterAsync(new RegisterBindingCommand(TestData.AccountSidValue, "bob", "apns-voip", "abcdef", null, null));

        var again = await RegisterAsync(new RegisterBindingCommand(TestData.AccountSidValue, "bob", "apns-voip", "ABCDEF", null, null));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(again.Created, Is.False);
            Assert.That(_bindings.All, Has.Count.EqualTo(1));
        }
    }

    [Test]
    public async Task ReRegisteringAnInactiveBindingReactivatesIt()
    {
        var first = await RegisterAsync(Fcm("fcm-token-1"));
        await _bindings.UpdateAsync(first.Binding.Id, b => b.Deactivate(InactiveReasons.Unregistered, Start), CancellationToken.None);
        _time.Advance(TimeSpan.FromHours(1));

        var again = await RegisterAsync(Fcm("fcm-token-1"));

        var stored = _bindings[first.Binding.Id]!;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(again.Created, Is.False);
            Assert.That(again.Binding.Status, Is.EqualTo("active"));
            Assert.That(again.Binding.InactiveReason, Is.Null);
            Assert.That(stored.Status, Is.EqualTo(BindingStatus.Active));
            Assert.That(stored.InactiveReason, Is.Null);
            Assert.That(stored.IsUsableAt(_time.GetUtcNow()), Is.True);
        }
    }

    [Test]
    public async Task BeyondTheLimitTheLeastRecentlyRefreshedBindingIsSuperseded()
    {
        var handler = Handler(maxPerIdentity: 2);
        var oldest = await RegisterAsync(handler, Fcm("token-a"));
        _time.Advance(TimeSpan.FromMinutes(1));
        var middle = await RegisterAsync(handler, Fcm("token-b"));
        _time.Advance(TimeSpan.FromMinutes(1));

        // Refreshing the oldest makes it the most recent: the middle one is now the least recently refreshed.
        await RegisterAsync(handler, Fcm("token-a"));
        _time.Advance(TimeSpan.FromMinutes(1));
        var newest = await RegisterAsync(handler, Fcm("token-c"));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(_bindings[middle.Binding.Id]!.Status, Is.EqualTo(BindingStatus.Inactive));
            Assert.That(_bindings[middle.Binding.Id]!.InactiveReason, Is.EqualTo(InactiveReasons.Superseded));
            Assert.That(_bindings[middle.Binding.Id]!.UpdatedAt, Is.EqualTo(_time.GetUtcNow()));
            Assert.That(_bindings[oldest.Binding.Id]!.Status, Is.EqualTo(BindingStatus.Active));
            Assert.That(_bindings[newest.Binding.Id]!.Status, Is.EqualTo(BindingStatus.Active));
        }
    }

    [Test]
    public async Task TheLimitCountsOnlyTheSameAccountAndIdentity()
    {
        var handler = Handler(maxPerIdentity: 1);
        await RegisterAsync(handler, Fcm("alice-token", identity: "alice"));
        await RegisterAsync(handler, Fcm("other-account-token", accountSid: TestData.OtherAccountSidValue));
        _time.Advance(TimeSpan.FromMinutes(1));

        await RegisterAsync(handler, Fcm("bob-token"));

        Assert.That(_bindings.All.Select(b => b.Status), Is.All.EqualTo(BindingStatus.Active));
    }

    [Test]
    public async Task WithinTheLimitNothingIsSuperseded()
    {
        var handler = Handler(maxPerIdentity: 3);
        for (var i = 0; i < 3; i++)
        {
            await RegisterAsync(handler, Fcm($"token-{i}"));
            _time.Advance(TimeSpan.FromMinutes(1));
        }

        Assert.That(_bindings.All.Select(b => b.Status), Is.All.EqualTo(BindingStatus.Active));
    }

    [Test]
    public async Task MovingABindingToAnIdentityAtItsLimitSupersedesThatIdentitysOldest()
    {
        var handler = Handler(maxPerIdentity: 1);
        var bobs = await RegisterAsync(handler, Fcm("bob-token"));
        _time.Advance(TimeSpan.FromMinutes(1));
        var alices = await RegisterAsync(handler, Fcm("shared-phone", identity: "alice"));
        _time.Advance(TimeSpan.FromMinutes(1));

        await RegisterAsync(handler, Fcm("shared-phone", identity: "bob"));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(_bindings[bobs.Binding.Id]!.InactiveReason, Is.EqualTo(InactiveReasons.Superseded));
            Assert.That(_bindings[alices.Binding.Id]!.Status, Is.EqualTo(BindingStatus.Active));
            Assert.That(_bindings[alices.Binding.Id]!.Identity.Value, Is.EqualTo("bob"));
        }
    }

    private static IEnumerable<TestCaseData> InvalidCommands()
    {
        yield return new TestCaseData(new RegisterBindingCommand("AC123", "bob", "fcm", "t", null, null), "accountSid").SetArgDisplayNames("short account");
        yield return new TestCaseData(new RegisterBindingCommand(null, "bob", "fcm", "t", null, null), "accountSid").SetArgDisplayNames("no account");
        yield return new TestCaseData(new RegisterBindingCommand(TestData.AccountSidValue, "", "fcm", "t", null, null), "identity").SetArgDisplayNames("empty identity");
        yield return new TestCaseData(new RegisterBindingCommand(TestData.AccountSidValue, new string('b', 257), "fcm", "t", null, null), "identity").SetArgDisplayNames("257-char identity");
        yield return new TestCaseData(new RegisterBindingCommand(TestData.AccountSidValue, "bob", "websocket", "t", null, null), "channel").SetArgDisplayNames("websocket channel");
        yield return new TestCaseData(new RegisterBindingCommand(TestData.AccountSidValue, "bob", "gcm", "t", null, null), "channel").SetArgDisplayNames("unknown channel");
        yield return new TestCaseData(new RegisterBindingCommand(TestData.AccountSidValue, "bob", "fcm", "", null, null), "address").SetArgDisplayNames("empty address");
        yield return new TestCaseData(new RegisterBindingCommand(TestData.AccountSidValue, "bob", "fcm", new string('a', 4097), null, null), "address").SetArgDisplayNames("4097-char address");
        yield return new TestCaseData(new RegisterBindingCommand(TestData.AccountSidValue, "bob", "apns", "not-hex", null, null), "address").SetArgDisplayNames("non-hex apns token");
        yield return new TestCaseData(new RegisterBindingCommand(TestData.AccountSidValue, "bob", "apns", "abcdef", "staging", null), "environment").SetArgDisplayNames("bad environment");
        yield return new TestCaseData(new RegisterBindingCommand(TestData.AccountSidValue, "bob", "apns", "abcdef", null, ""), "appId").SetArgDisplayNames("empty app id");
    }

    [TestCaseSource(nameof(InvalidCommands))]
    public async Task InvalidInputThrowsADomainExceptionNamingTheField(RegisterBindingCommand command, string field)
    {
        var thrown = await Assert.ThrowsAsync<DomainException>(async () => await RegisterAsync(command));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(thrown?.Field, Is.EqualTo(field));
            Assert.That(_bindings.All, Is.Empty);
        }
    }
}

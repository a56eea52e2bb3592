using CallNotify.Api.IntegrationTests.Support;
using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Bindings;
using CallNotify.Domain.Common;
using Microsoft.Extensions.DependencyInjection;

namespace CallNotify.Api.IntegrationTests.Store;

/// <summary>
/// The webhook's lookup on PostgreSQL answers concurrent lookups together (one round trip for many callees): each
/// still gets exactly its own callee's usable clients, never another's. And the bindings' delivery stamps, also
/// written together, land on their own rows.
/// </summary>
public sealed class CalleeLookupTests
{
    private TestStore _store = null!;

    [OneTimeSetUp]
    public async Task CreateStoreAsync() => _store = await TestStore.CreateAsync(StoreKind.Postgres);

    [OneTimeTearDown]
    public async Task DropStoreAsync() => await _store.DisposeAsync();

    [Test]
    public async Task ConcurrentLookupsOfManyCalleesEachGetExactlyTheirOwnActiveBindings()
    {
        await using var app = new CallNotifyApp(_store);
        var bindings = app.Services.GetRequiredService<IBindingRepository>();
        var lookup = app.Services.GetRequiredService<INotificationStore>();
        var account = AccountSid.Parse(CallNotifyApp.AccountSid);
        var now = DateTimeOffset.UtcNow;

        // Callee k has k % 3 active bindings, plus one deactivated and one expired binding that must never come back.
        const int callees = 24;
        var expected = new Dictionary<string, HashSet<string>>();
        for (var k = 0; k < callees; k++)
        {
            var identity = ClientIdentity.Parse("lookup-" + k);
            expected[identity.Value] = [];
            for (var i = 0; i < k % 3; i++)
            {
                var binding = Register(account, identity, now, TimeSpan.FromDays(1));
                await bindings.AddAsync(binding, CancellationToken.None);
                expected[identity.Value].Add(binding.Id);
            }

            var inactive = Register(account, identity, now, TimeSpan.FromDays(1));
            inactive.Deactivate(InactiveReasons.Unregistered, now);
            await bindings.AddAsync(inactive, CancellationToken.None);
            await bindings.AddAsync(Register(account, identity, now.AddDays(-2), TimeSpan.FromDays(1)), CancellationToken.None);
        }

        var asked = Enumerable.Range(0, 600).Select(i => "lookup-" + (i * 7 % callees)).ToList();
        var answers = await Task.WhenAll(asked.Select(identity => Task.Run(() =>
            lookup.FindCalleesAsync(account, ClientIdentity.Parse(identity), now, CancellationToken.None))));

        for (var i = 0; i < asked.Count; i++)
        {
            Assert.That(answers[i].Bindings.Select(b => b.Id), Is.EquivalentTo(expected[asked[i]]), $"lookup {i} of {asked[i]}");
            Assert.That(answers[i].Bindings.Select(b => b.Identity.Value), Is.All.EqualTo(asked[i]));
            Assert.That(answers[i].Sessions, Is.Empty);
        }
    }

    [Test]
    public async Task ConcurrentDeliveryStampsKeepEachBindingsLatest()
    {
        await using var app = new CallNotifyApp(_store);
        var bindings = app.Services.GetRequiredService<IBindingRepository>();
        var account = AccountSid.Parse(CallNotifyApp.AccountSid);
        var now = DateTimeOffset.UtcNow;
        var first = Register(account, ClientIdentity.Parse("stamped-a"), now, TimeSpan.FromDays(1));
        var second = Register(account, ClientIdentity.Parse("stamped-b"), now, TimeSpan.FromDays(1));
        await bindings.AddAsync(first, CancellationToken.None);
        await bindings.AddAsync(second, CancellationToken.None);

        // Stamps of both bindings at once, so batches carry several of one binding: each keeps its own latest.
        var store = app.Services.GetRequiredService<INotificationStore>();
        await Task.WhenAll(Enumerable.Range(1, 40).Select(i => Task.Run(() => store.RecordBindingDeliveryAsync(
            i % 2 == 0 ? first.Id : second.Id, now.AddSeconds(i), CancellationToken.None))));

        Assert.That((await bindings.GetAsync(first.Id, CancellationToken.None))!.LastDeliveryAt, Is.EqualTo(now.AddSeconds(40)).Within(TimeSpan.FromMilliseconds(1)));
        Assert.That((await bindings.GetAsync(second.Id, CancellationToken.None))!.LastDeliveryAt, Is.EqualTo(now.AddSeconds(39)).Within(TimeSpan.FromMilliseconds(1)));
    }

    private static Binding Register(AccountSid account, ClientIdentity identity, DateTimeOffset now, TimeSpan ttl) =>
        Binding.Register(
            account,
            identity,
            ChannelKind.Fcm,
            PushAddress.Parse(ChannelKind.Fcm, "fcm-token-" + Guid.NewGuid().ToString("N")),
            ApnsEnvironment.Production,
            null,
            now,
            ttl);
}

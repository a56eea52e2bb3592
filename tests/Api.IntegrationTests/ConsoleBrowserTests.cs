using System.Net;
using System.Net.Http.Json;
using CallNotify.Api.IntegrationTests.Support;
using Microsoft.Extensions.DependencyInjection;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace CallNotify.Api.IntegrationTests;

/// <summary>
/// The operator console (issue #17) in a real browser: Debian's headless Chromium, driven by Selenium through
/// <c>chromedriver</c>, against real Kestrel and a real store. Fails, never skips, without the browser.
/// </summary>
[TestFixture(StoreKind.Sqlite)]
[NonParallelizable]
public sealed class ConsoleBrowserTests(StoreKind store) : ApiFixture(store)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    private ChromeDriver _browser = null!;

    /// <summary>The Chromium and chromedriver of Debian's packages, or where CALLNOTIFY_CHROMIUM / CALLNOTIFY_CHROMEDRIVER say.</summary>
    internal static ChromeDriver StartBrowser(int width = 1280, int height = 800)
    {
        var chromium = Environment.GetEnvironmentVariable("CALLNOTIFY_CHROMIUM") ?? "/usr/bin/chromium";
        var driver = Environment.GetEnvironmentVariable("CALLNOTIFY_CHROMEDRIVER") ?? "/usr/bin/chromedriver";
        Assert.That(File.Exists(chromium) && File.Exists(driver), Is.True,
            $"The browser tests need Chromium and chromedriver ({chromium}, {driver}): apt-get install -y chromium chromium-driver (scripts/test.sh does it as root).");
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(driver)!, Path.GetFileName(driver));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var options = new ChromeOptions { BinaryLocation = chromium };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", $"--window-size={width},{height}", "--no-first-run");
        return new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
    }

    [OneTimeSetUp]
    public void StartBrowserOnce() => _browser = StartBrowser();

    [OneTimeTearDown]
    public void StopBrowser()
    {
        _browser?.Quit();
        _browser?.Dispose();
    }

    /// <summary>Leaves the page, so that its test client's WebSocket closes before the next test's reset.</summary>
    [TearDown]
    public void LeaveThePage() => _browser.Navigate().GoToUrl("about:blank");

    [SetUp]
    public void SignedOut()
    {
        _browser.Navigate().GoToUrl(Url("/console"));
        ((IJavaScriptExecutor)_browser).ExecuteScript("sessionStorage.clear();");
    }

    [Test]
    public void AWrongKeyShowsNotSignedInAndTheRightOneTheOverview()
    {
        Open("/console");
        SignIn("a-wrong-key");
        var message = Wait(By.Id("sign-in-message"));
        Assert.That(message.Text, Does.Contain("Not signed in"));

        SignIn(CallNotifyApp.AdminKey);
        var store = Wait(By.Id("store-state"));

        Assert.That(store.Text, Is.EqualTo("up"));
    }

    [Test]
    public async Task AnOperatorFindsABindingSendsATestCallSeesItArriveAndReadsItsDelivery()
    {
        var withBinding = "console-" + Guid.NewGuid().ToString("N")[..8];
        var listener = "console-" + Guid.NewGuid().ToString("N")[..8];
        var binding = await RegisterAsync(identity: withBinding, channel: "fcm", address: "fcm-console-token-" + withBinding);

        Open("/console");
        SignIn(CallNotifyApp.AdminKey);
        Wait(By.Id("store-state"));

        // Find the identity: its binding, registered through the API, is listed.
        Fill(By.CssSelector("#find-identity input[name=accountSid]"), CallNotifyApp.AccountSid);
        Fill(By.CssSelector("#find-identity input[name=identity]"), withBinding);
        _browser.FindElement(By.CssSelector("#find-identity button")).Click();
        Wait(By.CssSelector($"button[data-binding='{binding.GetProperty("id").GetString()}']"));
        Assert.That(_browser.Url, Does.EndWith($"/console/identities/{CallNotifyApp.AccountSid}/{withBinding}"));
        Assert.That(_browser.FindElement(By.Id("live")).Text, Does.Contain("fcm-console-token-" + withBinding));

        // The test client pane connects as another identity.
        Fill(By.Id("tc-account"), CallNotifyApp.AccountSid);
        Fill(By.Id("tc-identity"), listener);
        _browser.FindElement(By.Id("tc-connect")).Click();
        WaitUntil(() => _browser.FindElement(By.Id("tc-status")).Text.StartsWith("Connected", StringComparison.Ordinal));
        await App.WaitForSessionsAsync(CallNotifyApp.AccountSid, listener, 1);

        // A test call to it, from the overview.
        _browser.FindElement(By.CssSelector("a.brand")).Click();
        Fill(By.CssSelector("#test-call input[name=accountSid]"), CallNotifyApp.AccountSid);
        Fill(By.CssSelector("#test-call input[name=identity]"), listener);
        _browser.FindElement(By.CssSelector("#test-call button")).Click();
        var answer = Wait(By.Id("test-call-answer"));
        Assert.That(answer.Text, Is.EqualTo("200 Delivered"));

        // It arrives in the pane, and is acknowledged.
        var invite = Wait(By.CssSelector("#tc-invites li.invite"));
        WaitUntil(() => invite.FindElements(By.CssSelector(".acked")).Count == 1);
        var messageId = invite.FindElement(By.CssSelector(".invite-id")).Text;
        Assert.That(messageId, Does.StartWith("WB"));
        Assert.That(invite.FindElement(By.TagName("pre")).Text, Does.Contain("\"twi_to\":\"client:" + listener + "\""));

        // Its notification: the delivery accepted and acknowledged, on one screen.
        Click(By.LinkText("Open its notification"));
        WaitUntil(() => _browser.FindElements(By.CssSelector(".timeline .event-kind")).Select(e => e.Text).Contains("acknowledged"));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(_browser.Url, Does.EndWith($"/console/notifications/{CallNotifyApp.AccountSid}/{messageId}"));
            Assert.That(_browser.FindElement(By.Id("outcome")).Text, Is.EqualTo("delivered"));
            Assert.That(_browser.FindElement(By.CssSelector(".delivery-status")).Text, Is.EqualTo("accepted"));
            Assert.That(_browser.FindElements(By.CssSelector(".timeline .event-kind")).Select(e => e.Text), Is.SupersetOf(new[] { "accepted", "acknowledged" }));
            Assert.That(_browser.FindElement(By.Id("view")).Text, Does.Contain("(test call)"));
        }

        // The README's picture of this view: CALLNOTIFY_SCREENSHOT_DIR=docs scripts/test.sh --filter <this test>.
        if (Environment.GetEnvironmentVariable("CALLNOTIFY_SCREENSHOT_DIR") is { Length: > 0 } pictures)
        {
            _browser.GetScreenshot().SaveAsFile(Path.Combine(pictures, "console-notification.png"));
        }

        // Back to the identity with the binding: delete it, with confirmation.
        Open($"/console/identities/{CallNotifyApp.AccountSid}/{withBinding}");
        Click(By.CssSelector($"button[data-binding='{binding.GetProperty("id").GetString()}']"));
        new WebDriverWait(_browser, Patience).Until(d => { try { d.SwitchTo().Alert().Accept(); return true; } catch (NoAlertPresentException) { return false; } });
        WaitUntil(() => _browser.FindElements(By.CssSelector("button[data-binding]")).Count == 0);
        using var gone = await Admin.GetAsync($"/admin/v1/bindings/{binding.GetProperty("id").GetString()}");
        Assert.That(gone.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task ASharedLinkOpensTheSignInFirstAndThenTheView()
    {
        var identity = "console-" + Guid.NewGuid().ToString("N")[..8];
        using var client = await ConnectAsync(identity);
        using var test = await Admin.PostAsJsonAsync("/admin/v1/test-calls", new { accountSid = CallNotifyApp.AccountSid, identity });
        var messageId = (await test.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("twiMessageId").GetString();
        var path = $"/console/notifications/{CallNotifyApp.AccountSid}/{messageId}";

        Open(path);
        SignIn(CallNotifyApp.AdminKey);
        var outcome = Wait(By.Id("outcome"));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(_browser.Url, Does.EndWith(path));
            Assert.That(outcome.Text, Is.EqualTo("delivered"));
        }
    }

    [Test]
    public void TheConsoleIsUsableOnANarrowWindowAndItsControlsAreLabelled()
    {
        using var narrow = StartBrowser(width: 420, height: 800);
        narrow.Navigate().GoToUrl(Url("/console"));
        var key = new WebDriverWait(narrow, Patience).Until(d => d.FindElement(By.Id("admin-key")));
        key.SendKeys(CallNotifyApp.AdminKey + OpenQA.Selenium.Keys.Enter);
        new WebDriverWait(narrow, Patience).Until(d => d.FindElement(By.Id("store-state")));

        var unlabelled = narrow.FindElements(By.CssSelector("input")).Where(i => i.Displayed)
            .Count(i => ((IJavaScriptExecutor)narrow).ExecuteScript("return arguments[0].labels.length === 0 && !arguments[0].getAttribute('aria-label');", i) is true);
        var overflow = ((IJavaScriptExecutor)narrow).ExecuteScript("return document.documentElement.scrollWidth > window.innerWidth + 1;") is true;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(unlabelled, Is.Zero, "every input has a label");
            Assert.That(overflow, Is.False, "nothing wider than the window");
        }
    }

    private string Url(string path) => new Uri(App.BaseAddress, path).ToString();

    private void Open(string path) => _browser.Navigate().GoToUrl(Url(path));

    private void SignIn(string key)
    {
        var input = Wait(By.Id("admin-key"));
        input.Clear();
        input.SendKeys(key);
        _browser.FindElement(By.Id("sign-in-button")).Click();
    }

    /// <summary>Clicks once the element is there, again if a live redraw replaced it in between.</summary>
    private void Click(By by) => WaitUntil(() =>
    {
        Wait(by).Click();
        return true;
    });

    private void Fill(By by, string text)
    {
        var input = Wait(by);
        input.Clear();
        input.SendKeys(text);
    }

    private IWebElement Wait(By by) => new WebDriverWait(_browser, Patience).Until(d =>
    {
        var found = d.FindElements(by);
        return found.Count > 0 && found[0].Displayed ? found[0] : null;
    })!;

    private void WaitUntil(Func<bool> condition)
    {
        var wait = new WebDriverWait(_browser, Patience);

        // The live parts are redrawn every few seconds: an element read a moment ago may be gone.
        wait.IgnoreExceptionTypes(typeof(StaleElementReferenceException), typeof(NoSuchElementException));
        wait.Until(_ => condition());
    }
}

/// <summary>The console while the store is down: a visible message, not a blank page; back to normal once it is up.</summary>
[TestFixture(StoreKind.Sqlite)]
[NonParallelizable]
public sealed class ConsoleStoreDownTests(StoreKind store) : ApiFixture(store)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    private readonly FailingStore _failing = new();
    private ChromeDriver _browser = null!;

    /// <summary>The admin API's store reads fail while <see cref="FailingStore.Down"/> is set, as a store that is down would.</summary>
    protected override Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? Services => services =>
    {
        var inner = services.Last(d => d.ServiceType == typeof(CallNotify.Application.Common.Ports.IBindingRepository));
        services.Remove(inner);
        services.AddSingleton<CallNotify.Application.Common.Ports.IBindingRepository>(sp => DispatchProxyStore.Create(
            (CallNotify.Application.Common.Ports.IBindingRepository)inner.ImplementationFactory!(sp), _failing));
    };

    [OneTimeSetUp]
    public void StartBrowserOnce() => _browser = ConsoleBrowserTests.StartBrowser();

    [OneTimeTearDown]
    public void StopBrowser()
    {
        _browser?.Quit();
        _browser?.Dispose();
    }

    [Test]
    public async Task AStoreThatIsDownShowsAMessageAndTheViewComesBackWithIt()
    {
        var identity = "console-down-" + Guid.NewGuid().ToString("N")[..8];
        _browser.Navigate().GoToUrl(new Uri(App.BaseAddress, $"/console/identities/{CallNotifyApp.AccountSid}/{identity}").ToString());
        var key = new WebDriverWait(_browser, Patience).Until(d => d.FindElement(By.Id("admin-key")));
        key.SendKeys(CallNotifyApp.AdminKey + Keys.Enter);
        new WebDriverWait(_browser, Patience).Until(d => d.FindElement(By.Id("sign-out-identity")));

        _failing.Down = true;
        using (var direct = await Admin.GetAsync($"/admin/v1/bindings?accountSid={CallNotifyApp.AccountSid}&identity={identity}"))
        {
            Assert.That(direct.StatusCode, Is.EqualTo(System.Net.HttpStatusCode.ServiceUnavailable), "the admin API while the store is down");
        }

        var banner = new WebDriverWait(_browser, Patience).Until(d => d.FindElement(By.Id("banner")) is { Displayed: true } b ? b : null);
        var whileDown = banner!.Text;
        var viewWhileDown = _browser.FindElement(By.Id("view")).Text;
        _failing.Down = false;
        new WebDriverWait(_browser, Patience).Until(d => !d.FindElement(By.Id("banner")).Displayed);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(whileDown, Does.Contain("store is unavailable"));
            Assert.That(viewWhileDown, Does.Contain(identity), "the view stays, not a blank page");
        }
    }

    internal sealed class FailingStore
    {
        public volatile bool Down;
    }

    /// <summary>Forwards every call to the real repository, or fails it as an unreachable store does.</summary>
#pragma warning disable CA1852 // DispatchProxy derives from it at run time.
    internal class DispatchProxyStore : System.Reflection.DispatchProxy
    {
        private object _inner = null!;
        private FailingStore _failing = null!;

        public static T Create<T>(T inner, FailingStore failing)
            where T : class
        {
            var proxy = Create<T, DispatchProxyStore>();
            var store = (DispatchProxyStore)(object)proxy;
            store._inner = inner;
            store._failing = failing;
            return proxy;
        }

        protected override object? Invoke(System.Reflection.MethodInfo? targetMethod, object?[]? args)
        {
            if (_failing.Down)
            {
                throw new TimeoutException("The store does not answer (test).");
            }

            try
            {
                return targetMethod!.Invoke(_inner, args);
            }
            catch (System.Reflection.TargetInvocationException ex) when (ex.InnerException is not null)
            {
                throw ex.InnerException;
            }
        }
    }
#pragma warning restore CA1852
}

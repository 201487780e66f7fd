//! The HTTP client the OAuth and OIDC crates talk through: our reqwest 0.13 (oauth2 5's
//! built-in support targets reqwest 0.12), with redirects off — a token endpoint that
//! redirects is not followed, which closes an SSRF path — and a timeout.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use oauth2::{AsyncHttpClient, HttpClientError, HttpRequest, HttpResponse};

/// Installs ring as rustls's process-wide crypto provider. Idempotent; must run before any
/// reqwest client is built (reqwest is compiled without a provider of its own).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[derive(Clone)]
pub struct OAuthHttp(pub reqwest::Client);

impl OAuthHttp {
    pub fn new() -> anyhow::Result<Self> {
        install_crypto_provider();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .user_agent(concat!("colloquy/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self(client))
    }
}

impl<'c> AsyncHttpClient<'c> for OAuthHttp {
    type Error = HttpClientError<reqwest::Error>;
    type Future =
        Pin<Box<dyn Future<Output = Result<HttpResponse, Self::Error>> + Send + Sync + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let request = reqwest::Request::try_from(request).map_err(Box::new)?;
            let response = self.0.execute(request).await.map_err(Box::new)?;
            let mut builder = http::Response::builder()
                .status(response.status())
                .version(response.version());
            for (name, value) in response.headers() {
                builder = builder.header(name, value);
            }
            let body = response.bytes().await.map_err(Box::new)?.to_vec();
            builder.body(body).map_err(HttpClientError::Http)
        })
    }
}

use super::*;

#[tokio::test]
async fn every_spelling_of_a_path_parameter_gets_the_plain_spellings_answer() {
    let app = app().await;
    let staff = staff(&app).await;
    // Reads change nothing: one world serves every spelling. Anything else gets a fresh,
    // equivalent world per spelling, so each spelling meets the state the plain one met.
    let shared = world(&app, &staff).await;
    let mut walked = 0;
    let mut failures = Vec::new();
    for (method, route) in walked_routes(&app) {
        let read = method == "GET";
        let plain_world = if read {
            None
        } else {
            Some(world(&app, &staff).await)
        };
        let w = plain_world.as_ref().unwrap_or(&shared);
        let values = params(method, &route, w);
        let plain = answer(&app, method, &fill(&route, &values), w, &route).await;
        assert!(
            (plain.status != 404 || about_the_body(&route, &plain))
                && plain.status != 405
                && plain.status < 500,
            "{method} {route}: the walk's fixture gets {} with the plain spelling: {}",
            plain.status,
            plain.body
        );
        walked += 1;
        for name in values.keys() {
            for (label, _) in spellings("xx").into_iter().skip(1) {
                let fresh = if read {
                    None
                } else {
                    Some(world(&app, &staff).await)
                };
                let w = fresh.as_ref().unwrap_or(&shared);
                let mut values = params(method, &route, w);
                let spelled = spellings(&values[name])
                    .into_iter()
                    .find(|(l, _)| *l == label)
                    .unwrap()
                    .1;
                values.insert(name, spelled);
                let path = fill(&route, &values);
                let got = answer(&app, method, &path, w, &route).await;
                if got != plain {
                    failures.push(format!(
                        "{method} {route} with {{{name}}} spelled {label} ({path}):\n  plain:   {plain:?}\n  spelled: {got:?}"
                    ));
                }
                walked += 1;
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} spellings answered differently:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(walked >= 200, "walked only {walked} requests");
}

// Long documents for the labelled prompts (labelled-long-prompts.ts), built
// deterministically from a few hand-written paragraphs per kind, so the
// labelled set stays readable. Each kind reads like the real thing where it
// matters to a classifier: a title or opening that says "this" or "here"
// (as contracts and abstracts do), and words of complex work inside the text
// ("we prove", "root cause", "trade-offs"), which must not count as the ask.
// The kinds are split by the labelled set's splits (labelled-long-prompts.ts),
// so no held-out document was seen while the heuristic was tuned.

export type DocumentKind =
  // "long-dev": tuned on
  | "paper"
  | "contract"
  | "minutes"
  | "postmortem"
  // "long-holdout": held out
  | "news"
  | "trial"
  | "novel"
  | "manual"
  | "transcript"
  // "long-late": written after "long-holdout" was scored; tuned on after their own scoring
  | "policy"
  | "emails"
  // "long-fresh": held out, written last
  | "judgment"
  | "thread";

interface Kind {
  title: string;
  paragraphs: readonly string[];
}

const KINDS: Record<DocumentKind, Kind> = {
  paper: {
    title: "Sensitivity-Aware Quantisation for Language Models on Commodity CPUs",
    paragraphs: [
      "Abstract. In this paper we study how small language models behave when their weights are quantised to four bits and they run on old desktop processors. We prove that the error introduced by grouping weights is bounded by the largest singular value of each group, and we derive a calibration rule from that bound. Across five model families the method recovers most of the accuracy lost by uniform quantisation.",
      "Methods. We estimate the sensitivity of every group of 128 weights from 512 calibration samples drawn from a web corpus, rank the groups, and keep the top eight percent at eight bits. Perplexity is measured on WikiText-103 and latency on a cluster of twelve desktops with DDR3 memory, each serving one model with llama.cpp and four threads.",
      "Results. The mixed-precision models are eleven percent larger than uniform four-bit models and lose 0.4 points of accuracy on average, against 2.9 points for the uniform baseline. The gap is largest on multi-step arithmetic, where the uniform models fail twice as often, and smallest on short factual questions, which are barely affected by quantisation at all.",
      "Discussion. The trade-offs between memory, latency and quality are not linear: beyond ten percent of groups kept at eight bits the gains flatten while the memory cost keeps growing. We critically examine the choice of calibration data and show that a corpus of voice-assistant queries gives almost the same ranking of groups as web text, which suggests the sensitivity is a property of the model rather than the data.",
      "Limitations. The calibration set is English only, the latency figures depend on the memory bandwidth of the machines we had, and we did not evaluate instruction-tuned variants. We also leave open whether the bound can be tightened for attention weights, whose distribution differs from that of the feed-forward layers.",
      "Related work. Earlier methods quantise activations as well as weights, or fine-tune after quantisation; both need a GPU for hours. Ours needs a few minutes on one CPU core, which matters to people who run these models at home on hardware they already own.",
    ],
  },
  contract: {
    title: "MASTER SERVICES AGREEMENT",
    paragraphs: [
      "This Master Services Agreement (the \"Agreement\") is entered into as of 1 March 2025 by and between Northwind Analytics Ltd., a company registered in England and Wales (the \"Provider\"), and Harbour Logistics B.V., a company registered in the Netherlands (the \"Client\"), each a \"Party\" and together the \"Parties\".",
      "1. Services. The Provider shall deliver the data processing, reporting and support services described in each Statement of Work signed by both Parties. Where a Statement of Work conflicts with this Agreement, this Agreement prevails unless the Statement of Work expressly states otherwise and refers to the clause it overrides.",
      "2. Fees and payment. The Client shall pay the fees set out in each Statement of Work within thirty days of receiving a valid invoice. Late payments bear interest at four percent above the base rate of the European Central Bank, calculated daily, from the due date until payment is received in full.",
      "3. Term and termination. This Agreement starts on the date above and continues for an initial term of twenty-four months, renewing automatically for periods of twelve months. Either Party may terminate it with ninety days of written notice, except during the first year, when termination requires a material breach not cured within thirty days of notice.",
      "4. Liability. Neither Party excludes liability for death or personal injury caused by negligence or for fraud. Subject to that, each Party's total liability under this Agreement in any contract year is limited to the fees paid or payable in that year, and neither Party is liable for loss of profit, revenue or data, however caused.",
      "5. Confidentiality. Each Party shall keep the other Party's confidential information secret, use it only to perform this Agreement, and disclose it only to employees and advisers who need to know it and are bound by equivalent obligations. These obligations survive termination for five years.",
      "6. Governing law. This Agreement and any dispute arising from it are governed by the laws of England and Wales, and the courts of London have exclusive jurisdiction, save that either Party may seek injunctive relief in any competent court.",
    ],
  },
  minutes: {
    title: "Riverside Community Centre: minutes of the board meeting of 14 May",
    paragraphs: [
      "Present: Maria Okafor (chair), Tom Lindqvist (treasurer), Aisha Rahman, Pete Duval, Jonas Weber. Apologies: Carla Mendes. The chair opened the meeting at 19:05 and the minutes of the April meeting were approved without changes.",
      "Finances. Tom reported that spending on maintenance was twelve percent over plan because the boiler failed twice in April and the emergency call-out fees were high. The reserve stands at 18,400 euros. The board agreed to get three quotes for replacing the boiler before the summer rather than repairing it again.",
      "Summer programme. Aisha presented the draft programme: a children's art week in July, outdoor film nights on four Fridays, and a repair café every second Saturday. Volunteers are still needed for the film nights. The board approved the programme and a budget of 2,100 euros, with the film licence as the largest item.",
      "Building access. Several users have complained that the side entrance is locked during evening classes. Pete will ask the caretaker to change the lock schedule and will report back by email. Jonas raised the question of a key-card system; the board decided to look at costs at the next meeting.",
      "Action items: Tom to collect three boiler quotes by 31 May; Aisha to publish the summer programme and a call for volunteers; Pete to fix the side-entrance schedule; Jonas to price a key-card system. Next meeting: 11 June at 19:00 in the small hall. The meeting closed at 20:40.",
    ],
  },
  postmortem: {
    title: "Incident report: checkout outage on 3 October",
    paragraphs: [
      "Summary. Here is what happened: between 09:12 and 10:47 UTC about forty percent of checkout requests failed with a 502 error. The incident was declared at 09:20, mitigated at 10:31 by rolling back the payment service, and closed at 10:47 once error rates were back to normal.",
      "Timeline. At 09:05 release 4.18 of the payment service was deployed to all regions at once. At 09:12 the error rate on checkout rose from 0.1 percent to 38 percent. At 09:20 the on-call engineer declared an incident. At 09:55 the team suspected the database pool; at 10:20 it found the new connection timeout; at 10:31 the rollback finished.",
      "Root cause. Release 4.18 lowered the database connection timeout from five seconds to 500 milliseconds to fail faster. Under the morning peak the pool was often empty for longer than that, so requests that would have waited a little failed instead, and the retries from the gateway doubled the load on the pool.",
      "Impact. Roughly 21,000 checkout attempts failed; about 60 percent of those customers retried successfully within an hour. Support received 340 tickets. No payment was taken twice and no data was lost, which the team confirmed by reconciling the payment provider's records with our own.",
      "What went well and what did not. Alerting fired within three minutes. Deploying to all regions at once, however, meant there was no healthy region to compare with, and the trade-offs of the shorter timeout were never discussed in review. The dashboards did not show pool wait times.",
      "Action items. Deploy the payment service one region at a time with an automatic halt on error rate; add pool wait time to the service dashboard; require a load test for any change to timeouts; cap gateway retries at one for checkout. Owners and dates are tracked in the reliability board.",
    ],
  },
  news: {
    title: "As the reservoirs fall, a city learns to live with less water",
    paragraphs: [
      "When the taps in the old town ran dry for six hours last Tuesday, it was not a surprise to anyone who had been watching the reservoirs. After the third dry winter in a row they stand at 23 percent of capacity, the lowest level since records began in 1962, and the city council has announced rationing from the first of next month.",
      "Under the plan, households will be asked to keep their use under 110 litres per person per day, and the pressure in the network will be lowered at night to reduce leaks. Watering gardens, washing cars and filling private pools will be banned outright, with fines of up to 600 euros for repeated offences.",
      "Farmers in the valley say the measures come too late. \"We were told two years ago that the new pipeline would be ready by now,\" said Jordi Puig, who grows almonds and olives on forty hectares. He has already let a third of his trees go without water and expects a harvest half the size of last year's.",
      "The water company blames the delays on the cost of steel and a long dispute over the route of the pipeline through a protected wetland. Its director, Elena Sáez, said the first section would open in March and would bring enough water for a quarter of the city's needs, but only if the river upstream does not fall further.",
      "Not everyone is pessimistic. A desalination plant on the coast, mothballed after the wet years of the last decade, is being restarted and could supply a fifth of the city by summer. Its critics point to its energy use and to the brine it returns to the sea; its supporters say the city has no better option in the short term.",
      "In the meantime people are adapting. Hotels have installed flow limiters, schools are teaching children to take shorter showers, and a neighbourhood association has started collecting rainwater from roofs for the public gardens. \"It is strange to pray for rain in a modern city,\" said one resident, \"but here we are.\"",
    ],
  },
  trial: {
    title: "A randomised, double-blind trial of low-dose colchicine after myocardial infarction",
    paragraphs: [
      "Background. Inflammation is thought to contribute to recurrent events after a heart attack. This trial tested whether colchicine, an inexpensive anti-inflammatory drug, reduces cardiovascular events when it is started within thirty days of a myocardial infarction.",
      "Methods. We enrolled 4,745 patients at 167 centres in twelve countries and randomly assigned them to colchicine 0.5 mg once daily or a placebo. Randomisation was stratified by centre. The primary end point was a composite of cardiovascular death, resuscitated cardiac arrest, myocardial infarction, stroke, or urgent hospitalisation for angina leading to revascularisation.",
      "Participants. The mean age was 60.6 years, 19 percent of patients were women, and 93 percent had undergone percutaneous coronary intervention for the index event. Baseline characteristics were balanced between the groups, and 98 percent of patients received aspirin and a statin throughout the trial.",
      "Results. Over a median follow-up of 22.6 months, the primary end point occurred in 5.5 percent of the colchicine group and 7.1 percent of the placebo group (hazard ratio 0.77; 95% confidence interval 0.61 to 0.96; P = 0.02). The difference was driven mainly by fewer strokes and fewer urgent hospitalisations for angina.",
      "Adverse events. Diarrhoea was reported in 9.7 percent of the colchicine group and 8.9 percent of the placebo group. Pneumonia was reported as a serious adverse event in 0.9 percent and 0.4 percent of patients respectively. There was no significant difference in the rate of death from any cause.",
      "Interpretation. Among patients with a recent myocardial infarction, low-dose colchicine led to a significantly lower risk of ischaemic cardiovascular events than placebo. Longer trials are needed to establish its effect on mortality and to weigh the small excess of pneumonia against the benefit.",
    ],
  },
  novel: {
    title: "Chapter Seven: The Lighthouse",
    paragraphs: [
      "The boat left her at the foot of the cliff an hour before dusk, and by the time she had climbed the two hundred steps to the lighthouse the sea below had turned the colour of slate. Ines stood at the door for a long while before she knocked, listening to the wind working at the shutters.",
      "The old keeper opened it himself. He was smaller than she remembered from the photograph, and he looked at her suitcase before he looked at her face. \"You are the one from the ministry,\" he said. It was not a question. \"You had better come in before the rain does.\"",
      "Inside, the kitchen smelled of paraffin and fish. There was one chair at the table and a second one, newer, pushed against the wall as if it had been brought in that morning and not yet given a place. He filled a kettle from a jug, because the tap, he said, had not worked since the winter of the big storm.",
      "She had rehearsed what she would say on the ferry: that the light was to be automated, that the ministry was grateful for forty-one years of service, that there would be a pension and a flat in the town. Now, watching him set out two cups with great care, she found she could not say any of it yet.",
      "\"My brother kept the light before me,\" he said, without turning round. \"He used to say the sea does not care who is watching it, only that someone is.\" He put the cups on the table. \"I suppose you have come to tell me that a machine can watch it now.\"",
      "Later, when he had gone up to light the lamp, she sat alone in the kitchen and read the logbook he had left open on the table. Every night for forty-one years had its line: the weather, the ships, the hour the lamp was lit. On the last page, in the same careful hand, he had already written tomorrow's date.",
    ],
  },
  manual: {
    title: "AquaPure 500 dishwasher: user manual",
    paragraphs: [
      "Thank you for choosing the AquaPure 500. Please read this manual before using the appliance for the first time and keep it for future reference. The manufacturer is not liable for damage caused by ignoring the instructions below.",
      "Installation. The dishwasher must be installed on a level floor, within 1.5 metres of a water tap and an earthed socket. Connect the inlet hose to a cold-water tap with a 3/4 inch thread and make sure the drain hose is no higher than one metre above the floor. Do not use extension cords or multiple sockets.",
      "Programmes. Eco 50° is the most efficient programme for normally soiled dishes and takes 3 hours 15 minutes. Intensive 70° is for pots and pans with dried-on food. Quick 35° washes lightly soiled dishes in 30 minutes. Glass 45° protects delicate glassware. The programme time shown on the display depends on the load and the water temperature.",
      "Water hardness and salt. Set the water softener to the hardness of your local water, which you can ask your water company for. The factory setting is level 3 (14 to 21 °dH). When the salt indicator lights up, fill the salt container with about 1.5 kg of dishwasher salt; never use table salt.",
      "Cleaning and care. Clean the filter at the bottom of the tub every two weeks: turn it anticlockwise, lift it out, rinse it under running water, and put it back until it clicks. Wipe the door seal with a damp cloth. Run an empty Intensive programme with machine cleaner once a month.",
      "Troubleshooting. Error E1: the water supply is interrupted; check that the tap is open and the inlet hose is not kinked. Error E4: water is leaking into the base; switch off the appliance, close the tap and call the service centre. Dishes are not dry: check the rinse-aid level and use the Extra Dry option.",
      "Warranty. The appliance is covered by a two-year warranty from the date of purchase. The warranty does not cover damage caused by incorrect installation, misuse, limescale from an incorrect softener setting, or repairs by people not authorised by the manufacturer.",
    ],
  },
  transcript: {
    title: "Brightline Retail Q3 earnings call transcript",
    paragraphs: [
      "Operator: Good morning and welcome to Brightline Retail's third-quarter earnings call. At this time all participants are in listen-only mode. I will now hand the call over to Sarah Chen, head of investor relations.",
      "Sarah Chen: Thank you. With me today are our chief executive, David Morales, and our chief financial officer, Priya Nair. Before we begin, I remind you that today's remarks contain forward-looking statements that are subject to risks described in our annual report.",
      "David Morales: Thanks, Sarah. Revenue for the quarter was 2.41 billion dollars, up 6 percent from a year ago, with comparable-store sales up 3.8 percent. Online sales grew 14 percent and now make up 22 percent of the total. We opened nine stores and closed four, and we are on track for thirty openings this year.",
      "Priya Nair: Gross margin was 34.2 percent, down 60 basis points, mainly because of higher freight costs and the promotions we ran in August to clear summer stock. Operating expenses were flat as a share of sales. Diluted earnings per share were 1.12 dollars, against 1.05 a year ago. We are raising the low end of our full-year guidance.",
      "Analyst, Mark Fischer: Thanks for taking my question. Can you talk about how the consumer is behaving in the lower income brackets, and whether you are seeing trading down into your own brands?",
      "David Morales: We are, Mark. Own-brand penetration rose to 31 percent this quarter, a record, and the growth was strongest in groceries and household goods. Shoppers are making more trips and buying less each time, which tells us they are watching their budgets closely.",
    ],
  },
  policy: {
    title: "Homes for Everyone: the city's housing strategy 2026-2035 (consultation draft)",
    paragraphs: [
      "Rents in the city have risen by 41 percent in ten years while wages rose by 17 percent. One household in three now spends more than 40 percent of its income on housing, and the waiting list for social housing has grown to 23,000 households. The council cannot solve this alone, but it can use its land, its planning powers and its budget much better than it does today.",
      "Proposal one: build 12,000 new homes on public land by 2035, at least half of them social or affordable rent. The council owns 140 hectares of underused land, mostly former depots and car parks, and will release it through long leases rather than sales, so that the land stays public and the rents stay low.",
      "Proposal two: a licensing scheme for all private landlords, with a fee of 600 euros per property for five years. Licensed homes must meet minimum standards for heating, damp and safety, and inspectors funded by the fees will visit one in five properties each year.",
      "Proposal three: limit short-term holiday lets to ninety nights a year in the central districts, where an estimated 4,800 homes are let to tourists full time. Platforms will be required to share booking data with the council, and homes let beyond the limit will need planning permission for a change of use.",
      "Costs and funding. The building programme needs 1.9 billion euros over ten years, of which the council can borrow 1.1 billion against future rents. The rest must come from the national housing fund and from developer contributions on private schemes, which the strategy proposes to raise from 20 to 30 percent.",
      "Consultation. Residents, landlords, tenants' unions and builders are invited to respond by 30 September. The council will publish the responses, hold public meetings in every district, and bring a final strategy to the full council in December.",
    ],
  },
  emails: {
    title: "Subject: Re: Re: Fwd: launch of the new booking app",
    paragraphs: [
      "From: Lena Fischer\nTo: product team\nHi all, a quick update after this morning's call. The payments provider needs another two weeks to certify our integration, so the launch on 3 June is not realistic. I suggest we move it to 17 June. Can everyone check their plans and reply by Thursday?",
      "From: Omar Haddad\nTo: product team\n17 June works for engineering, but only if we freeze features this Friday. The calendar sync is still flaky on Android and I would rather ship without it than delay again. QA needs the final build by 10 June at the latest.",
      "From: Sofia Russo\nTo: product team\nMarketing has already booked the newsletter and two social campaigns for the week of 3 June. I can move the newsletter, but the paid campaign with the travel blog cannot be moved without losing the deposit of 2,400 euros. Can we at least announce the app that week, with a waiting list?",
      "From: Lena Fischer\nTo: product team\nA waiting list is a good idea. Omar, can your team put up a simple sign-up page by 31 May? Sofia, please change the campaign copy from 'available now' to 'join the waiting list'. I will tell the board on Monday that the launch is now 17 June.",
      "From: Daniel Kim\nTo: product team\nSupport will need the final help articles a week before launch, so by 10 June as well. Also, who is answering the questions from the two hotels in the pilot? They have asked twice whether the calendar sync will be ready, and I do not know what to tell them.",
      "From: Omar Haddad\nTo: product team\nSign-up page by 31 May is fine. For the hotels: calendar sync will come in the first update, planned for early July. Daniel, I can join a call with them next week if that helps.",
    ],
  },
  judgment: {
    title: "Court of Appeal: Marsh v. Eastgate Housing Association, judgment of 12 February",
    paragraphs: [
      "1. This is an appeal by the tenant, Ms Marsh, against the order of the county court granting the landlord possession of her flat. The landlord relied on rent arrears of 4,310 pounds and on alleged nuisance to neighbours. The judge found both grounds proved and held that it was reasonable to make an outright order.",
      "2. The appellant raises three grounds. First, that the judge was wrong to admit the neighbours' written statements when the neighbours did not attend to be cross-examined. Second, that the arrears were caused by the landlord's own delay in processing her housing benefit claim. Third, that an outright order was disproportionate given her disability.",
      "3. On the first ground, hearsay evidence is admissible in civil proceedings, and the question is the weight it should bear. The judge gave reasons for accepting the statements, noting that they were consistent with each other and with the landlord's records of complaints. We see no error in that approach.",
      "4. The second ground has more force. The evidence shows that the benefit claim was submitted in March and not processed until October, and that most of the arrears arose in that period. The judge did not address this in deciding whether it was reasonable to make the order, and in our view she should have.",
      "5. On the third ground, the landlord accepts that the appellant is disabled within the meaning of the Equality Act and that it owed her a duty to consider whether possession was a proportionate means of achieving a legitimate aim. The record contains no sign that it did so before issuing proceedings.",
      "6. For these reasons the appeal is allowed on the second and third grounds. The outright order is set aside and the claim is remitted to the county court to decide afresh whether a suspended order, or any order, is reasonable and proportionate. The costs of the appeal are to be paid by the respondent.",
    ],
  },
  thread: {
    title: "Issue #4182: uploads over 2 GB fail with 'connection reset' behind the proxy",
    paragraphs: [
      "opened by kwright: Since upgrading to 3.9, uploading any file larger than 2 GB through our nginx proxy fails after a few minutes with 'connection reset by peer'. Smaller files are fine. Going direct to the server without the proxy works for every size. Logs from the client and the proxy are attached below.",
      "comment by mgarcia (maintainer): Thanks for the report. 3.9 switched the upload path to chunked transfer encoding, so the proxy now sees one long streaming request instead of a request with a Content-Length. Can you share your proxy_request_buffering and client_max_body_size settings?",
      "comment by kwright: client_max_body_size is 0 (unlimited) and request buffering is on. Turning buffering off makes the error go away for 3 GB files but not for 5 GB ones, which now fail at around 4 GB instead.",
      "comment by tliu: Same here on a Kubernetes ingress. It looks like a 32-bit overflow somewhere: the failures line up with 2^31 and 2^32 bytes. I found a counter declared as int in the chunk writer; patching it to int64 fixed it on my build.",
      "comment by mgarcia (maintainer): Good catch, that is the bug. The chunk writer keeps the running offset in an int, which wraps on 32-bit-int builds and corrupts the chunk headers. Fixed in #4190, which will be in 3.9.2. Until then, disabling chunked uploads with upload.chunked=false is a safe workaround.",
      "comment by kwright: Confirmed: 3.9.2 uploads a 7 GB file through the proxy without errors. Closing this. Thanks everyone.",
    ],
  },
};

/**
 * A document of about `words` words: its title (unless `titled` is false:
 * pasted text often starts at the first paragraph), then its paragraphs
 * cycled from `from`, so two documents of one kind need not start alike.
 */
export function longDocument(kind: DocumentKind, words: number, options: { from?: number; titled?: boolean } = {}): string {
  const { title, paragraphs } = KINDS[kind];
  const out = options.titled === false ? [] : [title];
  let count = 0;
  for (let i = options.from ?? 0; count < words; i++) {
    const paragraph = paragraphs[i % paragraphs.length] ?? "";
    out.push(paragraph);
    count += paragraph.split(" ").length;
  }
  return out.join("\n\n");
}

-- What the flow did on each call (FlowOutcome as JSON): actions run, digits, variables set.
ALTER TABLE campaigncalls ADD COLUMN flow_result TEXT;

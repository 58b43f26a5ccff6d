"""Small templates shared by the CloudFormation contract tests."""
from __future__ import annotations

import json

import yaml

TOPIC_AND_LOGS = """
AWSTemplateFormatVersion: "2010-09-09"
Description: topic and log group
Parameters:
  Retention:
    Type: Number
    Default: 14
  GroupName:
    Type: String
    Default: /cfn/app
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: alarms
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Ref GroupName
      RetentionInDays: !Ref Retention
Outputs:
  TopicArn:
    Value: !Ref Topic
    Export:
      Name: !Sub "${AWS::StackName}-TopicArn"
  LogGroupArn:
    Value: !GetAtt Logs.Arn
"""

INTRINSICS = """
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Env:
    Type: String
    Default: dev
    AllowedValues: [dev, prod]
  Names:
    Type: CommaDelimitedList
    Default: "a,b,c"
  Secret:
    Type: String
    NoEcho: true
    Default: hunter2
Mappings:
  Sizes:
    dev: {Count: "1"}
    prod: {Count: "3"}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsDev: !Not [!Condition IsProd]
  Both: !And [!Condition IsDev, !Equals ["x", "x"]]
  Either: !Or [!Condition IsProd, !Condition Both]
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: !Sub "${AWS::StackName}-${Env}"
  ProdOnly:
    Type: AWS::SNS::Topic
    Condition: IsProd
Outputs:
  Sub:
    Value: !Sub "${AWS::Region}/${AWS::AccountId}/${AWS::Partition}/${AWS::URLSuffix}/${Topic.TopicName}"
  SubMap:
    Value: !Sub ["${A}-${B}-${!Literal}", {A: !Ref Env, B: !Select [1, !Ref Names]}]
  Join:
    Value: !Join ["+", !Split [",", "x,y,z"]]
  If:
    Value: !If [IsProd, big, !If [Either, small, none]]
  Map:
    Value: !FindInMap [Sizes, !Ref Env, Count]
  Azs:
    Value: !Select [0, !GetAZs ""]
  B64:
    Value: !Base64 "hello"
  NoValue:
    Value: !Join [",", [one, !If [IsProd, two, !Ref "AWS::NoValue"]]]
  StackName:
    Value: !Ref AWS::StackName
  ProdTopic:
    Condition: IsProd
    Value: !Ref ProdOnly
"""

BAD_RETENTION = TOPIC_AND_LOGS.replace("RetentionInDays: !Ref Retention", "RetentionInDays: 13")


def importer(export: str) -> str:
    return json.dumps({
        "Resources": {"Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {
            "LogGroupName": {"Fn::Join": ["", ["/imports/", {"Fn::Select": [5, {"Fn::Split": [
                ":", {"Fn::ImportValue": export}]}]}]]}}}}})


def load(text: str) -> dict:
    from local_backends.cloudformation.template import load as cfn_load
    return cfn_load(text)


__all__ = ["BAD_RETENTION", "INTRINSICS", "TOPIC_AND_LOGS", "importer", "load", "yaml"]
